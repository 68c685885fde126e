using System.Diagnostics;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// Drill (issue 11 §6): the server process is SIGKILLed while a burst of signals comes in, and a new one starts on
/// the same database, broker session and folder. The bridge acknowledges a signal once the transaction that handled
/// it committed, so at the kill some signals are handled and acknowledged, some handled but not yet acknowledged
/// (mosquitto delivers them again, and the new server must know them: SeenMessage), some taken but not yet handled
/// (unacknowledged: delivered again), and the rest still at mosquitto. Every one must be handled, each exactly once.
/// </summary>
[Trait("Category", "Drill")]
public sealed class server_killed_mid_burst(ITestOutputHelper output) : ServerProcessDrill("burst")
{
    private static readonly int Count = Drill.Count("PRESENCE_DRILL_BURST_SIGNALS", 300);

    [Fact]
    public async Task every_signal_of_the_burst_is_handled_once_after_the_restart()
    {
        servers.Add(await ServerProcess.StartAsync(database, broker, directory, "drill"));
        await using var emitter = await MqttProbe.ConnectAsync(broker, "imac-emitter", "imac");
        var burst = Stopwatch.StartNew();
        // The burst is spread over about 1.5 s in thirty groups: the server decides a run of one user's idle signals in
        // one transaction, so a burst sent all at once can be handled whole between two looks at the database.
        var publishing = Task.Run(async () =>
        {
            var group = Math.Max(1, Count / 30);
            for (var i = 0; i < Count; i++)
            {
                await emitter.PublishAsync(DrillSignals.Topic, DrillSignals.Payload(i));
                if ((i + 1) % group == 0)
                {
                    await Task.Delay(50);
                }
            }
        });

        // Mid-burst: the server has handled the first signals while the rest are still being sent.
        while ((await DrillSignals.StoredAsync(database)).Count == 0)
        {
            Assert.True(burst.Elapsed < TimeSpan.FromSeconds(20), "the first signals of the burst were not handled within 20 s");
            await Task.Delay(10);
        }

        servers[0].Kill();
        var handledBeforeKill = (await DrillSignals.StoredAsync(database)).Count;
        var kill = Stopwatch.StartNew();

        servers.Add(await ServerProcess.StartAsync(database, broker, directory, "drill"));
        await publishing;
        await Eventually.TrueAsync(async () => (await DrillSignals.StoredAsync(database)).Count >= Count,
            $"all {Count} signals handled after the restart", TimeSpan.FromSeconds(180));
        var stored = await DrillSignals.StoredAsync(database);
        var inOrder = stored.SequenceEqual(stored.Order());
        output.WriteLine($"{Count} sent in one burst; {handledBeforeKill} handled when the server was SIGKILLed; all {stored.Count} handled " +
                         $"{kill.Elapsed.TotalSeconds:0.0} s after the kill ({stored.Distinct().Count()} distinct, in the order sent: {inOrder}); burst to end {burst.Elapsed.TotalSeconds:0.0} s");
        Assert.True(handledBeforeKill < Count, "the whole burst was handled before the kill: the drill killed nothing mid-burst");
        Assert.Equal(Enumerable.Range(0, Count).Select(DrillSignals.IdOf).Order(), stored.Order());
    }
}
