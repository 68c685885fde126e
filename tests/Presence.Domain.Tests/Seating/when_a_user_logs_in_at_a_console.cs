using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Seating;

public class when_a_user_logs_in_at_a_console
{
    [Fact]
    public void she_is_seated_there_and_the_evidence_is_recorded_first()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.LogsInAt(Basement))
            .Then(typeof(SignalRecorded), typeof(SeatChanged));

        var recorded = s.The<SignalRecorded>();
        Assert.Equal("ev-1", recorded.Evidence.Id);
        Assert.Equal("login", recorded.Evidence.Detail("state"));

        var seat = s.The<SeatChanged>();
        Assert.Equal(AliceName, seat.User);
        Assert.Equal(Basement, seat.Seat);
        Assert.Null(seat.PreviousSeat);
        Assert.Equal(1.0, seat.Confidence);
        Assert.Equal(["ev-1"], seat.EvidenceIds);
        Assert.Equal(s.Now, seat.At);
        Assert.Equal(Basement, s.State!.Seat);
    }

    [Theory]
    [InlineData("login", 1.0)]
    [InlineData("unlock", 1.0)]
    [InlineData("active", 0.9)]
    public void login_unlock_and_activity_each_seat_her_with_their_confidence(string state, double confidence)
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.Session(Basement, state));

        Assert.Equal(Basement, s.The<SeatChanged>().Seat);
        Assert.Equal(confidence, s.The<SeatChanged>().Confidence);
    }

    [Fact]
    public void moving_to_another_seat_names_the_one_she_left()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithPolicy(p => p.Prefers(PreferredMode.ThinClient))
            .Given(Alice.LogsInAt(Imac))
            .When(Alice.UnlocksAt(Laptop));

        Assert.Equal(Imac, s.The<SeatChanged>().PreviousSeat);
        Assert.Equal(Laptop, s.The<SeatChanged>().Seat);
    }

    [Fact]
    public void evidence_at_the_seat_she_already_holds_only_is_recorded()
    {
        Scenario.AliceOnTheBasementServer()
            .Given(Alice.LogsInAt(Basement))
            .When(Alice.IsActiveAt(Basement))
            .Then(typeof(SignalRecorded));
    }

    [Theory]
    [InlineData("idle")]
    [InlineData("switched")]
    public void a_session_state_that_says_nothing_about_the_seat_is_only_recorded(string state)
    {
        Scenario.AliceOnTheBasementServer()
            .When(Alice.Session(Imac, state))
            .Then(typeof(SignalRecorded));
    }

    [Fact]
    public void other_kinds_of_evidence_are_recorded_but_do_not_seat_her()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.Evidence(EvidenceKind.Lid, Laptop, ("state", "open")))
            .Then(typeof(SignalRecorded));

        Assert.Null(s.State!.Seat);
        Assert.Equal(s.Now, s.State.LastEvidenceAt);
    }
}
