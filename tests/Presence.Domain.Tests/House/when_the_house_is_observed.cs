using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.House;

/// <summary>
/// Every decision depends on the house as the agents reported it, so the snapshot enters the stream first whenever
/// it differs from the last one recorded; the stream learns from it where the VM runs.
/// </summary>
public class when_the_house_is_observed
{
    [Fact]
    public void a_new_stream_records_the_user_and_the_house_before_anything_else()
    {
        var s = Scenario.NewStream()
            .When(Alice.LogsInAt(Basement))
            .Then(typeof(UserEnrolled), typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged));

        var enrolled = s.The<UserEnrolled>();
        Assert.Equal(("alice-desktop", Basement), (enrolled.Vm, enrolled.HomeHost));

        var house = s.The<HouseChanged>();
        Assert.Equal(AliceName, house.User);
        Assert.Equal([Basement, Imac, KidsPc, Laptop], house.Hosts.Select(h => h.Name));
        Assert.Equal(s.Now, house.At);
    }

    [Fact]
    public void the_stream_learns_where_the_vm_runs()
    {
        var s = Scenario.NewStream()
            .WithHouse(h => h.VmRunsOn(Laptop))
            .When(Alice.LogsInAt(Laptop));

        Assert.Equal(Laptop, s.State!.VmHost);
        Assert.Equal(SessionMode.Local, s.State.Mode);
    }

    [Fact]
    public void the_same_facts_are_not_recorded_again_even_as_new_lists_in_another_order()
    {
        Scenario.AliceOnTheBasementServer()
            .WithHouse(h => new HouseSnapshot(h.Hosts.Reverse().Select(f => f with { Vms = f.Vms.ToList() }).ToList()))
            .When(Alice.LogsInAt(Basement))
            .Then(typeof(SignalRecorded), typeof(SeatChanged));
    }

    [Fact]
    public void changed_facts_are_recorded_before_the_evidence()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib))
            .When(Alice.LogsInAt(Basement))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged));

        Assert.Equal(3 * Gib, s.The<HouseChanged>().Hosts.Single(h => h.Name == Imac).MemoryFreeMb);
        Assert.Equal(HouseSeen.PrintOf(s.The<HouseChanged>().Hosts.Single(h => h.Name == Imac)), s.State!.HouseSeen.Prints[Imac]);
    }

    [Fact]
    public void changed_facts_are_recorded_even_when_the_input_itself_changes_nothing()
    {
        Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.Offline(Laptop))
            .When(Agent.Reports(Imac, "no-such-command", ReportState.Completed))
            .Then(typeof(HouseChanged));
    }

    [Fact]
    public void a_vm_reported_on_two_hosts_leaves_its_location_unknown()
    {
        var s = Scenario.NewStream()
            .WithHouse(h => h.VmRunsOn(Basement, Imac))
            .When(Alice.LogsInAt(Laptop));

        Assert.Null(s.State!.VmHost);
        Assert.Equal(Rules.VmLocationUnknown, s.The<MoveSuppressed>().Rule);
    }

    [Fact]
    public void the_vm_follows_the_inventory_when_the_believed_host_no_longer_runs_it()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.VmRunsOn(Laptop))
            .When(Alice.LogsInAt(Laptop))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged));

        Assert.Equal(Laptop, s.State!.VmHost);
    }

    [Fact]
    public void an_offline_agents_silence_does_not_say_the_vm_left()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.Offline(Basement).VmRunsOn(Laptop))
            .When(Alice.LogsInAt(Laptop));

        Assert.Equal(Basement, s.State!.VmHost);
    }

    [Fact]
    public void the_inventory_does_not_move_the_vm_while_it_is_moving()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac))
            .WithHouse(h => h.VmRunsOn(Imac))
            .When(Alice.IsActiveAt(Imac));

        Assert.Equal(Basement, s.State!.VmHost);
        Assert.NotNull(s.State.Migration);
    }
}
