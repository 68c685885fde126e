using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Requests;

/// <summary>`home`: the VM goes back to the user's home host, as a request (hard rules only).</summary>
public class when_alice_asks_for_home
{
    [Fact]
    public void the_vm_moves_back_to_her_home_host()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(), Agent.SourceCompletes())
            .WithHouse(h => h.VmRunsOn(Imac))
            .When(Alice.AsksForHome())
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(PlacementDecided), typeof(IncomingRequested));

        var decision = s.The<PlacementDecided>();
        Assert.Equal((Imac, Basement, PlacementMode.LiveMigration, Rules.RequestHome), (decision.From, decision.To, decision.Mode, decision.Rule));
        // The first move took 9 s: the estimate now comes from that measurement.
        Assert.Equal("alice asked for alice-desktop on basement; alice-desktop (8 GiB) moves from imac to basement, about 9 s", decision.Reason);
    }

    [Fact]
    public void home_is_whatever_the_house_file_says()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.HomeIs(Imac))
            .When(Alice.AsksForHome());

        Assert.Equal((Imac, Rules.RequestHome), (s.The<IncomingRequested>().Target, s.The<PlacementDecided>().Rule));
    }

    [Fact]
    public void at_home_already_there_is_nothing_to_do()
    {
        Scenario.AliceOnTheBasementServer().When(Alice.AsksForHome()).Then(typeof(SignalRecorded));
    }

    [Fact]
    public void a_home_host_in_maintenance_is_refused()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.HomeIs(Imac))
            .WithHouse(h => h.InMaintenance(Imac))
            .When(Alice.AsksForHome());

        Assert.Equal(Rules.InMaintenance, s.The<MoveSuppressed>().Rule);
    }
}
