using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Telemetry;

/// <summary>
/// OpenTelemetry is off until Telemetry:OtlpEndpoint names a collector; then a move's stages reach it over OTLP
/// (the real exporter, posting to a collector stand-in on loopback): the message in from the broker, the decision,
/// Wolverine's handler, Marten's connection (the commit) and the command out, with Presence's metrics.
/// </summary>
public sealed class exporting_traces_and_metrics
{
    [Fact]
    public async Task a_move_is_traced_stage_by_stage_at_the_collector()
    {
        await using var collector = new OtlpReceiver();
        await using var house = await RunningHouse.StartAsync(TestHouse.Json, TestAgents.DefaultSpeed,
            [$"--Telemetry:OtlpEndpoint={collector.Endpoint}", "--Telemetry:MetricsInterval=500ms"],
            ("basement", [("alice-desktop", 2048)]), ("imac", []));

        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"otel-login","user":"alice","state":"login","seat":"console"}""");
        await house.Probe.WaitForAsync(m => m.Topic == "presence/users/alice/state" && m.Json.GetProperty("vm_host").GetString() == "imac",
            TimeSpan.FromSeconds(60), "alice's VM on the imac");

        // Spans leave in batches (every 5 s by default); metrics every 500 ms here.
        string[] stages = ["presence.mqtt.receive", "presence.decide", "presence.mqtt.publish", "otel-login"];
        await Eventually.TrueAsync(() => Task.FromResult(stages.All(collector.TextOf("/v1/traces").Contains)),
            $"the move's spans at the collector ({string.Join(", ", stages)}; posted to {string.Join(" ", collector.Paths.Distinct())})", TimeSpan.FromSeconds(30));
        var traces = collector.TextOf("/v1/traces");
        Assert.Contains("presence-server", traces); // service.name
        Assert.Contains("presence/agents/basement/commands", traces);
        Assert.Contains("PlacementDecided", traces);
        Assert.Contains("Wolverine", traces); // its own spans, nested in the message's trace
        Assert.Contains("Marten", traces); // the connection span that holds the commit

        await Eventually.TrueAsync(() => Task.FromResult(
                new[] { "presence.mqtt.received", "presence.decide.duration", "presence.mqtt.handle.duration", "presence.agent.answer.duration" }
                    .All(collector.TextOf("/v1/metrics").Contains)),
            "Presence's metrics at the collector", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task nothing_is_set_up_without_an_endpoint()
    {
        await using var server = await TestServer.StartAsync();

        Assert.Null(server.Services.GetService<TracerProvider>());
        Assert.Null(server.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());
    }

    [Theory]
    [InlineData("--Telemetry:OtlpEndpoint=collector:4318", "Telemetry:OtlpEndpoint must be an http:// or https:// address")]
    [InlineData("--Telemetry:Protocol=udp", "Telemetry:Protocol must be http/protobuf or grpc, got 'udp'")]
    [InlineData("--Telemetry:MetricsInterval=soon", "Telemetry:MetricsInterval 'soon' is not a duration")]
    [InlineData("--Telemetry:Headers=Bearer-secret-token", "Telemetry:Headers must be comma-separated key=value pairs")]
    public async Task a_bad_setting_stops_the_start_naming_it(string setting, string error)
    {
        var settings = setting.StartsWith("--Telemetry:OtlpEndpoint", StringComparison.Ordinal)
            ? new[] { setting }
            : new[] { "--Telemetry:OtlpEndpoint=http://127.0.0.1:4318", setting };

        var e = await Assert.ThrowsAsync<StartupException>(() => TestServer.StartAsync(settings: settings));

        Assert.Contains(error, e.Message);
        Assert.DoesNotContain("secret-token", e.Message);
    }
}
