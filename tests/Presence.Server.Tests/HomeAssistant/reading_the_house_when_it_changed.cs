using System.Text;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.HomeAssistant;

/// <summary>
/// Home Assistant's publisher reads the whole house after each change (one round trip, only what changed since). A
/// commit of the bridge's inbox rows alone changes nothing HA shows: it must not wake the publisher, whose read then
/// ran beside the handler's on the way of every login (issue 11, the warm path).
/// </summary>
public sealed class reading_the_house_when_it_changed(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task a_message_stored_and_then_refused_wakes_no_read_and_a_recorded_signal_does()
    {
        var sql = new RecordedSql();
        await using var server = await TestServer.StartAsync(services: s => s.ConfigureMarten(o => o.Logger(sql)));
        var bridge = server.Services.GetRequiredService<MqttBridge>();
        await QuietAsync(sql);

        // Well-formed, so the bridge stores it (one commit of its inbox row); the house knows no "attic", so the
        // handler refuses it and writes nothing.
        var refusedBefore = server.Rejections.Count;
        Assert.True(await bridge.HandleAsync("presence/hosts/attic/signals/idle", Encoding.UTF8.GetBytes("""{"id":"attic-1","user":"alice","idle_seconds":5}"""), default));
        await Eventually.TrueAsync(() => Task.FromResult(server.Rejections.Count > refusedBefore), "the signal from the attic refused");
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        Assert.DoesNotContain(sql.RoundTrips, IsHomeAssistantRead);

        // A signal that is recorded writes the user's saga: the publisher reads the house after it.
        Assert.True(await bridge.HandleAsync("presence/hosts/imac/signals/idle", Encoding.UTF8.GetBytes("""{"id":"imac-1","user":"alice","idle_seconds":5}"""), default));
        await Eventually.TrueAsync(() => Task.FromResult(sql.RoundTrips.Any(IsHomeAssistantRead)), "Home Assistant's publisher reading the house after alice's signal");
    }

    /// <summary>Its read of what changed, with the timelines' new lines (no handler reads a timeline).</summary>
    private static bool IsHomeAssistantRead(IReadOnlyList<string> trip) =>
        trip.Any(c => c.Contains("from presence.timeline_lines", StringComparison.Ordinal));

    /// <summary>Until the publisher has announced the house after start and read nothing for a while.</summary>
    private async Task QuietAsync(RecordedSql sql)
    {
        await Eventually.TrueAsync(() => Task.FromResult(sql.RoundTrips.Any(IsHomeAssistantRead)), "Home Assistant's first read of the house");
        var seen = -1;
        await Eventually.TrueAsync(async () =>
        {
            var now = sql.RoundTrips.Count(IsHomeAssistantRead);
            var quiet = now == seen;
            seen = now;
            await Task.Delay(TimeSpan.FromSeconds(1));
            return quiet && sql.RoundTrips.Count(IsHomeAssistantRead) == now;
        }, "Home Assistant's publisher quiet after start");
        output.WriteLine($"{seen} reads of the house after start");
        sql.Clear();
    }
}
