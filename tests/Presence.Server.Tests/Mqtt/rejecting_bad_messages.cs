using Marten;
using Presence.Domain.Users;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Mqtt;

/// <summary>CONTRACT.md "Conventions": a bad message is published on presence/errors with its reason and changes nothing.</summary>
public sealed class rejecting_bad_messages : IAsyncLifetime
{
    private TestServer server = null!;
    private MqttProbe probe = null!;

    public async Task InitializeAsync()
    {
        server = await TestServer.StartAsync();
        probe = await MqttProbe.ConnectAsAsync(server.MqttPort, "probe-errors", "imac", "presence/errors");
    }

    public async Task DisposeAsync()
    {
        await probe.DisposeAsync();
        await server.DisposeAsync();
    }

    [Theory]
    [InlineData("presence/hosts/imac/signals/session", "{not json", "not valid JSON")]
    [InlineData("presence/hosts/imac/signals/session", """{"state":"login"}""", "'user'")]
    [InlineData("presence/hosts/imac/signals/session", """{"user":"alice","state":"sleeping"}""", "login|logout|lock|unlock|active")]
    [InlineData("presence/hosts/imac/signals/power", """{"ac":true,"battery_percent":140}""", "battery_percent")]
    [InlineData("presence/hosts/imac/signals/session", """{"user":"alice","state":"login","at":"2001-01-01T00:00:00Z"}""", "'at'")]
    [InlineData("presence/hosts/attic/signals/session", """{"user":"alice","state":"login"}""", "host 'imac' may not publish")]
    [InlineData("presence/hosts/imac/signals/session", """{"user":"bob","state":"login"}""", "may not use host 'imac'")]
    [InlineData("presence/agents/imac/events", """{"command_id":"c1","vm":"zed-desktop","state":"completed"}""", "vm 'zed-desktop'")]
    public async Task a_bad_message_is_published_on_errors_and_stores_nothing(string topic, string payload, string reason)
    {
        var before = await server.EventCountAsync();
        var rejectedBefore = server.Rejections.Count;

        await probe.PublishAsync(topic, payload);

        var error = await probe.WaitForAsync(m => m.Topic == "presence/errors", what: "on presence/errors");
        Assert.Equal(topic, error.Json.GetProperty("topic").GetString());
        Assert.Contains(reason, error.Json.GetProperty("error").GetString());
        Assert.True(error.Json.TryGetProperty("at", out _));
        Assert.Equal(rejectedBefore + 1, server.Rejections.Count);
        Assert.Equal(before, await server.EventCountAsync());
    }

    [Fact]
    public async Task the_error_names_the_rejected_messages_id()
    {
        await probe.PublishAsync("presence/hosts/imac/signals/session", """{"id":"which-one","user":"alice","state":"sleeping"}""");

        var error = await probe.WaitForAsync(m => m.Topic == "presence/errors", what: "on presence/errors");
        Assert.Equal("which-one", error.Json.GetProperty("id").GetString());
    }

    /// <summary>Inbound payloads are a few KiB at most: a megabyte is refused unparsed, saying how big it was and what is accepted.</summary>
    [Fact]
    public async Task a_payload_over_64_KiB_is_refused_with_its_size()
    {
        var before = await server.EventCountAsync();
        var payload = $$"""{"id":"huge","user":"alice","state":"login","pad":"{{new string('x', 1024 * 1024)}}"}""";

        await probe.PublishAsync("presence/hosts/imac/signals/session", payload);

        var error = await probe.WaitForAsync(m => m.Topic == "presence/errors", what: "on presence/errors");
        Assert.Equal($"payload is {payload.Length} bytes; at most 65536 are accepted", error.Json.GetProperty("error").GetString());
        Assert.Equal("huge", error.Json.GetProperty("id").GetString());
        Assert.Equal(before, await server.EventCountAsync());
    }

    [Fact]
    public async Task processing_goes_on_after_a_rejection()
    {
        await probe.PublishAsync("presence/hosts/imac/signals/session", "[]");
        await probe.PublishAsync("presence/hosts/imac/signals/session", """{"id":"after-bad","user":"alice","state":"login"}""");

        await Eventually.TrueAsync(async () =>
        {
            await using var session = server.Store.QuerySession();
            return await session.LoadAsync<UserSaga>("alice") is { Seat: "imac" };
        }, "alice seated at imac after a rejected message");
        Assert.Contains(probe.All, m => m.Topic == "presence/errors" && m.Payload.Contains("must be a JSON object"));
    }
}
