using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

/// <summary>Music and games do not play well over the network: a latency-sensitive VM runs on the seat, +3 points.</summary>
public class when_the_vm_is_latency_sensitive
{
    private static Scenario ThinClientAliceWithAMusicVm() => Scenario.AliceOnTheBasementServer()
        .WithPolicy(p => p.Prefers(PreferredMode.ThinClient).LatencySensitive());

    [Fact]
    public void it_runs_on_the_seat_even_for_a_thin_client_user()
    {
        var s = ThinClientAliceWithAMusicVm()
            .When(Alice.LogsInAt(Imac))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(PlacementDecided), typeof(DisplayAttachRequested), typeof(IncomingRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal(PlacementMode.LiveMigration, decision.Mode);
        Assert.Equal(Rules.LatencySensitive, decision.Rule);
        Assert.Equal(Imac, s.The<IncomingRequested>().Target);
    }

    [Fact]
    public void its_points_are_listed_when_a_minimum_applies()
    {
        var s = ThinClientAliceWithAMusicVm()
            .WithSettings(p => p with { MinimumBenefit = 3 })
            .When(Alice.LogsInAt(Imac));

        Assert.EndsWith("about 68 s (+3 latency-sensitive)", s.The<PlacementDecided>().Reason);
    }

    [Fact]
    public void for_a_user_who_prefers_local_it_also_names_the_latency_rule()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.LatencySensitive())
            .When(Alice.LogsInAt(Imac));

        Assert.Equal(Rules.LatencySensitive, s.The<PlacementDecided>().Rule);
    }

    [Fact]
    public void a_seat_that_cannot_run_it_still_shows_it()
    {
        var s = ThinClientAliceWithAMusicVm()
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib))
            .When(Alice.LogsInAt(Imac));

        Assert.Equal((PlacementMode.AttachDisplay, Rules.ThinClientFallback), (s.The<PlacementDecided>().Mode, s.The<PlacementDecided>().Rule));
        Assert.Equal(Rules.FreeMemory, Assert.Single(s.The<PlacementDecided>().Rejected).Rule);
    }

    [Fact]
    public void below_the_minimum_it_is_shown_instead()
    {
        var s = ThinClientAliceWithAMusicVm()
            .WithSettings(p => p with { MinimumBenefit = 4 })
            .When(Alice.LogsInAt(Imac));

        Assert.Equal(Rules.ThinClientFallback, s.The<PlacementDecided>().Rule);
        Assert.Equal(
            "imac: running alice-desktop there is worth 3 points (+3 latency-sensitive), less than the 4 needed",
            Assert.Single(s.The<PlacementDecided>().Rejected).Reason);
    }
}
