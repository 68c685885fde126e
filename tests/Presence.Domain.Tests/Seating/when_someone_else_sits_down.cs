using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Seating;

/// <summary>
/// A screen shows at most one person's desktop. When bob sits down at the console of a computer whose screen shows
/// alice's desktop, the server hands his evidence to alice's saga first (HostNews.SeatNews): the seat is no longer
/// hers, and her desktop comes off the screen before his goes on.
/// </summary>
public class when_someone_else_sits_down
{
    private const string Bob = "bob";

    private static Scenario ShownAtTheImac() =>
        Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsInAt(Imac), Agent.SeatReports(ReportState.Completed));

    private static Step Bobs(string host, string state, string seat = EvidenceDetails.Session.Console) => s =>
        new ObserveEvidence
        {
            User = AliceName,
            House = s.House,
            Seed = s.NextSeed(),
            Evidence = new Evidence(s.NextEvidenceId(), EvidenceKind.Session, host, Bob,
                new Dictionary<string, string> { [EvidenceDetails.Session.State] = state, [EvidenceDetails.Session.Seat] = seat }, s.Now),
        };

    [Theory]
    [InlineData(EvidenceDetails.Session.Login)]
    [InlineData(EvidenceDetails.Session.Unlock)]
    [InlineData(EvidenceDetails.Session.Active)]
    public void at_her_screen_she_loses_the_seat_and_her_desktop_comes_off_it(string state)
    {
        var s = ShownAtTheImac()
            .When(Bobs(Imac, state))
            .Then(typeof(SignalRecorded), typeof(SeatChanged), typeof(DisplayDetachRequested));

        Assert.Null(s.The<SeatChanged>().Seat);
        Assert.Equal("bob sat down at imac", s.The<DisplayDetachRequested>().Reason);
        Assert.Equal([CommandKind.DetachDisplay], s.Commands.Select(c => c.Kind));
        Assert.Null(s.State!.ShownOn);
        Assert.Equal(Basement, s.State.VmHost);
    }

    [Fact]
    public void his_evidence_never_seats_her()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Bobs(Laptop, EvidenceDetails.Session.Login))
            .Then(typeof(SignalRecorded));

        Assert.Null(s.State!.Seat);
    }

    [Fact]
    public void at_another_screen_nothing_changes()
    {
        ShownAtTheImac()
            .When(Bobs(Laptop, EvidenceDetails.Session.Login))
            .Then(typeof(SignalRecorded));
    }

    [Theory]
    [InlineData(EvidenceDetails.Session.Logout, EvidenceDetails.Session.Console)]
    [InlineData(EvidenceDetails.Session.Lock, EvidenceDetails.Session.Console)]
    [InlineData(EvidenceDetails.Session.Login, EvidenceDetails.Session.Remote)]
    public void his_leaving_or_a_remote_session_of_his_changes_nothing(string state, string seat)
    {
        var s = ShownAtTheImac()
            .When(Bobs(Imac, state, seat))
            .Then(typeof(SignalRecorded));

        Assert.Equal(Imac, s.State!.Seat);
    }

    [Fact]
    public void while_she_only_waits_to_be_sure_of_the_seat_the_wait_lapses()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithSettings(x => x with { HoldDown = new HoldDowns(Duration.FromSeconds(3), Duration.FromSeconds(20), Duration.Zero) })
            .Given(Alice.LogsInAt(Imac))
            .Given(Bobs(Imac, EvidenceDetails.Session.Login))
            .After(Duration.FromSeconds(20))
            .When(TheWait.RunsOut());

        Assert.IsType<SettlingLapsed>(Assert.Single(s.Events, e => e is SettlingLapsed or PlacementDecided));
        Assert.Empty(s.Commands);
    }

    [Fact]
    public void his_login_older_than_what_she_did_there_still_takes_her_desktop_off()
    {
        // His saga acts on it whatever her stream knows, so hers must not keep the screen: taking it off is safe.
        var s = ShownAtTheImac()
            .When(st =>
            {
                var input = (ObserveEvidence)Bobs(Imac, EvidenceDetails.Session.Login)(st);
                return input with { Evidence = input.Evidence with { At = st.Now - Duration.FromMinutes(5) } };
            });

        Assert.Single(s.Events.OfType<DisplayDetachRequested>());
    }
}
