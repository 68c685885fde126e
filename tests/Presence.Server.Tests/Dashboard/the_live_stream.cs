using System.Text.Json;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Dashboard;

/// <summary>`/api/live`: server-sent events carrying the whole house, at once and again after each change.</summary>
public sealed class the_live_stream : IAsyncLifetime
{
    private RunningHouse house = null!;
    private HttpClient http = null!;

    public async Task InitializeAsync()
    {
        house = await RunningHouse.StartAsync(TestHouse.Json, ("basement", [("alice-desktop", 2048)]), ("imac", []));
        http = new HttpClient { BaseAddress = house.Server.HttpAddress };
    }

    public async Task DisposeAsync()
    {
        http.Dispose();
        await house.DisposeAsync();
    }

    [Fact]
    public async Task sends_the_house_at_once_and_again_when_a_move_changes_it()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await http.GetAsync("/api/live", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));

        var first = await NextHouseAsync(reader, timeout.Token);
        Assert.Equal("basement", VmHost(first, "alice"));

        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"login-live","user":"alice","state":"login","seat":"console"}""");

        // Each message differs from the one before: nothing is sent while the house stands still.
        var previous = first.GetRawText();
        while (true)
        {
            var next = await NextHouseAsync(reader, timeout.Token);
            Assert.NotEqual(previous, next.GetRawText());
            previous = next.GetRawText();
            if (VmHost(next, "alice") == "imac" && next.GetProperty("moves").GetArrayLength() == 0)
            {
                break;
            }
        }
    }

    private static string? VmHost(JsonElement house, string user) =>
        house.GetProperty("users").EnumerateArray().Single(u => u.GetProperty("name").GetString() == user).GetProperty("vm_host").GetString();

    /// <summary>Reads one `event: house` message (event and data lines, then a blank line).</summary>
    private static async Task<JsonElement> NextHouseAsync(StreamReader reader, CancellationToken ct)
    {
        string? kind = null;
        var data = new List<string>();
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0)
            {
                if (kind == "house" && data.Count > 0)
                {
                    return JsonDocument.Parse(string.Join('\n', data)).RootElement.Clone();
                }

                (kind, data) = (null, []);
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                kind = line["event:".Length..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Add(line["data:".Length..].TrimStart());
            }
        }

        throw new EndOfStreamException("the live stream ended");
    }
}

/// <summary>A dashboard left open must not keep the server from stopping until the host's shutdown timeout.</summary>
public sealed class a_dashboard_left_open
{
    [Fact]
    public async Task does_not_hold_up_the_servers_shutdown()
    {
        var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.HttpAddress };
        using var response = await http.GetAsync("/api/live", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("event: house", await reader.ReadLineAsync());

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await server.DisposeAsync();

        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"the server took {stopping.Elapsed} to stop with a live stream open");
        var rest = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("event: house", rest);
    }
}
