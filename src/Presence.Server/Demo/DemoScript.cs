using Presence.Contracts.Requests;
using Presence.Contracts.Signals;

namespace Presence.Server.Demo;

/// <summary>One beat of the story: what to tell the audience, what the house does, and how long to watch it.</summary>
public sealed record Step(string Narration, Func<DemoStage, Task> Act, TimeSpan PauseAfter);

/// <summary>
/// The house's story from DESIGN.md, as the MQTT messages its emitters and Home Assistant would send. The steps
/// say what *should* happen; what the decider actually does is only ever read back from the event store, so a
/// behaviour not built yet shows up as what the decider does today.
/// </summary>
public sealed class DemoScript(IReadOnlyList<Step> steps)
{
    public IReadOnlyList<Step> Steps { get; } = steps;

    public TimeSpan Length => Steps.Aggregate(TimeSpan.Zero, (sum, s) => sum + s.PauseAfter);

    /// <param name="speed">Divides every pause: 1 gives the simulated migrations (at the demo's agent speed) time to finish.</param>
    public static DemoScript Story(double speed = 1)
    {
        TimeSpan Seconds(double s) => TimeSpan.FromSeconds(s / speed);

        return new DemoScript(
        [
            new Step(
                "Morning. alice sits down at the iMac upstairs and logs in. She keeps her desktop local, so her VM should leave the basement and follow her.",
                s => s.SessionAsync("imac", "alice", SessionState.Login),
                Seconds(6)),
            new Step(
                "carol logs in at the kids' desktop. She prefers thin-client mode: her VM stays in the basement and the desktop just shows it.",
                s => s.SessionAsync("kids", "carol", SessionState.Login),
                Seconds(3)),
            new Step(
                "alice locks the iMac and goes to make coffee.",
                s => s.SessionAsync("imac", "alice", SessionState.Lock),
                Seconds(2)),
            new Step(
                "Later bob, the musician, logs in at the iMac. His bob-music VM is latency-sensitive: it should run locally on his seat, not over the network.",
                s => s.SessionAsync("imac", "bob", SessionState.Login),
                Seconds(5)),
            new Step(
                "dave logs in at the laptop in the living room.",
                s => s.SessionAsync("laptop", "dave", SessionState.Login),
                Seconds(3)),
            new Step(
                "dave unplugs the laptop…",
                s => s.PowerAsync("laptop", ac: false, s.Computer("laptop").BatteryPercent),
                Seconds(2)),
            new Step(
                "…and closes the lid to carry it to the library. His VM should be running on the laptop before it sleeps.",
                s => s.LidAsync("laptop", LidState.Closed),
                Seconds(10)),
            new Step(
                "Evening. Home Assistant puts the iMac into maintenance for an update: the VMs upstairs should be frozen or moved off it.",
                s => s.MaintenanceAsync("imac", MaintenanceRequest.Switch.On, "system update tonight"),
                Seconds(6)),
            new Step(
                "alice comes downstairs and logs in at the kids' desktop: her VM, frozen upstairs, should resume there.",
                s => s.SessionAsync("kids", "alice", SessionState.Login),
                Seconds(6)),
        ]);
    }
}
