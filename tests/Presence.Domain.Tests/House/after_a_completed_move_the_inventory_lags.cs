using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.House;

/// <summary>
/// Agents' inventories lag behind the saga: right after a move the source may still list the VM. Until the target
/// confirms it, such a stale inventory must not move the VM back in our books.
/// </summary>
public class after_a_completed_move_the_inventory_lags
{
    private static Scenario MovedToTheImac() => Scenario.AliceOnTheBasementServer()
        .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(), Agent.SourceCompletes());

    [Fact]
    public void a_stale_inventory_still_listing_the_source_does_not_move_it_back()
    {
        var s = MovedToTheImac()
            .WithHouse(h => h.VmRunsOn(Basement).FreeMemory(Basement, 39 * Gib))
            .When(Alice.IsActiveAt(Imac))
            .Then(typeof(HouseChanged), typeof(SignalRecorded));

        Assert.Equal(Imac, s.State!.VmHost);
        Assert.False(s.State.VmHostConfirmed);
    }

    [Fact]
    public void the_targets_inventory_confirms_it()
    {
        var s = MovedToTheImac()
            .WithHouse(h => h.VmRunsOn(Imac))
            .When(Alice.IsActiveAt(Imac));

        Assert.Equal(Imac, s.State!.VmHost);
        Assert.True(s.State.VmHostConfirmed);
    }

    [Fact]
    public void once_confirmed_the_inventory_is_believed_again()
    {
        var s = MovedToTheImac()
            .Given(Alice.IsActiveAt(Imac)) // unchanged house: still only the stale listing
            .WithHouse(h => h.VmRunsOn(Imac))
            .Given(Alice.IsActiveAt(Imac))
            .WithHouse(h => h.VmRunsOn(Laptop))
            .When(Alice.IsActiveAt(Imac));

        Assert.Equal(Laptop, s.State!.VmHost);
    }

    [Fact]
    public void a_target_already_listing_the_vm_when_completion_arrives_counts_as_confirmation()
    {
        // The target's inventory can overtake the source's "completed": it then confirms the move at once, or the
        // stream would wait for a confirmation that already came and ignore every later inventory.
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady())
            .WithHouse(h => h.VmRunsOn(Imac))
            .Given(Agent.SourceCompletes());

        Assert.True(s.State!.VmHostConfirmed);

        s.WithHouse(h => h.VmRunsOn(Laptop)).When(Alice.IsActiveAt(Imac));

        Assert.Equal(Laptop, s.State!.VmHost);
    }

    [Fact]
    public void after_a_failed_move_the_source_still_listing_the_vm_counts_as_confirmation()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.TargetReports(ReportState.Failed, "no room"));

        Assert.Equal(Basement, s.State!.VmHost);
        Assert.True(s.State.VmHostConfirmed);
    }

    [Fact]
    public void when_a_move_reported_failed_went_through_after_all_the_inventory_is_believed()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Imac), Agent.TargetIsReady(), Agent.SourceReports(ReportState.Cancelled))
            .WithHouse(h => h.VmRunsOn(Imac))
            .When(Alice.IsActiveAt(Imac));

        Assert.Equal(Imac, s.State!.VmHost);
    }
}
