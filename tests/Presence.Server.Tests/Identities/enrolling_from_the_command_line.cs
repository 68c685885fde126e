using System.Text;
using System.Text.Json;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Presence.Server.Identities;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Identities;

/// <summary>
/// `enroll` and `revoke` as a person runs them beside a running server: the secret is printed once, only a hash is
/// stored, the broker follows within seconds, and the secret never turns up in a log, an event or a retained message.
/// </summary>
public sealed class enrolling_from_the_command_line : IAsyncLifetime
{
    private readonly CapturedLogs logs = new();
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(services: logs.AddTo);

    public Task DisposeAsync() => server.DisposeAsync().AsTask();

    private async Task<string> EnrolAsync(params string[] args)
    {
        var run = await PresenceCli.AgainstAsync(server, ["enroll", .. args]);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.True(run.Stdout.TrimStart().StartsWith('{'), run.Output);
        return run.Stdout;
    }

    private Task ConnectsAsync(string name, string secret) =>
        Eventually.TrueAsync(() => MqttProbe.AdmitsAsync(server.MqttPort, name, secret), $"{name} connecting with its secret");

    [Fact]
    public async Task a_host_gets_its_agent_settings_and_the_house_keeps_only_a_hash()
    {
        var printed = JsonDocument.Parse(await EnrolAsync("imac")).RootElement.GetProperty("Agent");
        var secret = printed.GetProperty("Mqtt").GetProperty("Password").GetString()!;

        Assert.Equal("imac", printed.GetProperty("Host").GetString());
        Assert.Equal("imac", printed.GetProperty("Mqtt").GetProperty("Username").GetString());
        Assert.True(secret.Length * 6 >= 128, secret);
        await using (var session = server.Store.QuerySession())
        {
            var stored = await session.LoadAsync<Enrolment>("imac");
            Assert.NotNull(stored);
            Assert.Equal(IdentityRole.Host, stored.Role);
            Assert.True(stored.Iterations >= 600_000);
            Assert.True(SecretHash.Verify(secret, stored.Secret));
            Assert.True(stored.EnrolledAt > NodaTime.Instant.FromUtc(2020, 1, 1, 0, 0));
        }

        await ConnectsAsync("imac", secret);

        // And the house's public key, without which the agent acts on no command: the one the server signs with.
        Assert.Equal(
            (await File.ReadAllTextAsync(TestServer.ServerKeyFile(server.Directory))).Trim(),
            printed.GetProperty("Trust").GetProperty("ServerKey").GetString());
    }

    [Fact]
    public async Task enrolling_again_replaces_the_secret_and_revoking_removes_it()
    {
        var first = JsonDocument.Parse(await EnrolAsync("homeassistant", "--controller")).RootElement;
        Assert.Equal("homeassistant", first.GetProperty("Username").GetString());
        var old = first.GetProperty("Password").GetString()!;
        await ConnectsAsync("homeassistant", old);
        await using var live = await MqttProbe.ConnectWithAsync(server.MqttPort, "ha-live", "homeassistant", old);

        var renewed = JsonDocument.Parse(await EnrolAsync("homeassistant", "--controller")).RootElement.GetProperty("Password").GetString()!;
        Assert.NotEqual(old, renewed);
        await ConnectsAsync("homeassistant", renewed);
        await live.Disconnected.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(MQTTnet.MqttClientConnectResultCode.BadUserNameOrPassword,
            await proving_who_connects.RefusalAsync(server.MqttPort, "ha-old", "homeassistant", old));

        var revoked = await PresenceCli.AgainstAsync(server, "revoke", "homeassistant");
        Assert.True(revoked.ExitCode == 0, revoked.Output);
        await Eventually.TrueAsync(async () => !await MqttProbe.AdmitsAsync(server.MqttPort, "homeassistant", renewed), "the revoked secret refused");

        await using var session = server.Store.QuerySession();
        Assert.Null(await session.LoadAsync<Enrolment>("homeassistant"));
        var audit = (await session.Events.FetchStreamAsync(IdentityStream.Id)).Select(e => e.Data).ToList();
        Assert.Collection(audit,
            e => Assert.Equal(new IdentityEnrolled("homeassistant", IdentityRole.Controller, false, ((IdentityEnrolled)e).At), e),
            e => Assert.True(e is IdentityEnrolled { Replaced: true }),
            e => Assert.True(e is IdentityRevoked { Name: "homeassistant" }));

        // Nothing of either secret, or of a hash, in the log, the event store or what the broker keeps.
        await AssertNowhereAsync(old, renewed);
    }

    [Theory]
    [InlineData("attic", "", "'attic' is not a host of the house")]
    [InlineData("Home Assistant", "--controller", "'Home Assistant' is not a valid identity name")]
    [InlineData("imac", "--controller", "'imac' is a host of the house")]
    [InlineData("presence-server", "--controller", "the server's own identity")]
    public async Task a_name_that_cannot_be_enrolled_is_refused_with_exit_code_2(string name, string flag, string why)
    {
        var run = await PresenceCli.AgainstAsync(server, flag.Length == 0 ? ["enroll", name] : ["enroll", name, flag]);

        Assert.True(run.ExitCode == 2, run.Output);
        Assert.Contains(why, run.Stderr);
        Assert.Equal("", run.Stdout.Trim());
        await using var session = server.Store.QuerySession();
        Assert.Equal(0, await session.Query<Enrolment>().CountAsync());
    }

    [Fact]
    public async Task revoking_what_was_never_enrolled_is_refused()
    {
        var run = await PresenceCli.AgainstAsync(server, "revoke", "laptop");

        Assert.True(run.ExitCode == 2, run.Output);
        Assert.Contains("'laptop' is not enrolled", run.Stderr);
    }

    private async Task AssertNowhereAsync(params string[] secrets)
    {
        var retained = await server.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<EmbeddedBroker>().Single().RetainedAsync();
        Assert.NotEmpty(retained);
        var events = new List<string>();
        await using (var connection = new NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("select data::text || coalesce(headers::text, '') from presence.mt_events", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                events.Add(reader.GetString(0));
            }
        }

        Assert.NotEmpty(events);
        Assert.NotEmpty(logs.Lines);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(logs.Lines, l => l.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(events, e => e.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(retained, m => Encoding.UTF8.GetString(m.Payload).Contains(secret, StringComparison.Ordinal));
        }

        Assert.DoesNotContain(events, e => e.Contains("hash", StringComparison.OrdinalIgnoreCase) || e.Contains("salt", StringComparison.OrdinalIgnoreCase));
    }
}
