using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Placement;

public class when_the_seat_answers_a_display_attach
{
    private static Scenario Attaching() => Scenario.AliceOnTheBasementServer()
        .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
        .Given(Alice.LogsInAt(Imac));

    [Fact]
    public void completed_means_the_seat_shows_it()
    {
        var s = Attaching()
            .When(Agent.SeatReports(ReportState.Completed))
            .Then(typeof(DisplayAttached));

        Assert.Equal(new DisplayAttached(AliceName, Vm, Imac, s.Now), s.The<DisplayAttached>());
        Assert.Equal(Imac, s.State!.DisplayedOn);
        Assert.Null(s.State.PendingDisplay);
    }

    [Theory]
    [InlineData(ReportState.Failed, "spice client crashed", "spice client crashed")]
    [InlineData(ReportState.Failed, null, "failed")]
    [InlineData(ReportState.Cancelled, null, "cancelled")]
    public void failed_or_cancelled_is_recorded_with_why(ReportState state, string? error, string reason)
    {
        var s = Attaching()
            .When(Agent.SeatReports(state, error))
            .Then(typeof(DisplayAttachFailed));

        Assert.Equal(new DisplayAttachFailed(AliceName, Vm, Imac, reason, s.Now), s.The<DisplayAttachFailed>());
        Assert.Null(s.State!.PendingDisplay);
        Assert.Null(s.State.DisplayedOn);
    }

    [Theory]
    [InlineData(ReportState.Accepted)]
    [InlineData(ReportState.Progress)]
    [InlineData(ReportState.Ready)]
    public void other_answers_change_nothing(ReportState state)
    {
        var s = Attaching()
            .When(Agent.SeatReports(state))
            .ThenNothing();

        Assert.NotNull(s.State!.PendingDisplay);
    }

    [Fact]
    public void the_same_command_answered_from_another_host_changes_nothing()
    {
        var s = Attaching();
        var command = s.State!.PendingDisplay!.CommandId;

        s.When(Agent.Reports(Laptop, command, ReportState.Completed)).ThenNothing();
    }

    [Fact]
    public void a_second_completed_changes_nothing()
    {
        Attaching()
            .Given(Agent.SeatReports(ReportState.Completed))
            .When(s => Agent.Reports(Imac, s.History.OfType<DisplayAttachRequested>().Single().CommandId, ReportState.Completed)(s))
            .ThenNothing();
    }
}
