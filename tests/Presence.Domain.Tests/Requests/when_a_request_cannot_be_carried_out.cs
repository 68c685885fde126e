using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Requests;

/// <summary>A request the decider cannot act on is refused with a reason, never guessed at and never thrown.</summary>
public class when_a_request_cannot_be_carried_out
{
    [Theory]
    [InlineData("dance", null, null, "request 'dance' lacks what it needs")]
    [InlineData("move", null, null, "request 'move' lacks what it needs")]
    [InlineData("approve", null, null, "request 'approve' lacks what it needs")]
    [InlineData("decline", null, null, "request 'decline' lacks what it needs")]
    public void an_unknown_or_incomplete_request_is_refused(string action, string? target, string? decision, string reason)
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(Alice.Asks(action, target, decision))
            .Then(typeof(SignalRecorded), typeof(RequestRefused))
            .ThenNoCommands();

        var refused = s.The<RequestRefused>();
        Assert.Equal(AliceName, refused.User);
        Assert.Equal("ev-1", refused.EvidenceId);
        Assert.Equal(reason, refused.Reason);
        Assert.Equal(s.Now, refused.At);
    }

    [Fact]
    public void a_request_with_no_action_at_all_is_refused()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .When(st => new ObserveEvidence
            {
                User = AliceName,
                House = st.House,
                Seed = st.NextSeed(),
                Evidence = new Evidence("r-1", EvidenceKind.Request, Basement, AliceName, new Dictionary<string, string>(), st.Now),
            })
            .Then(typeof(SignalRecorded), typeof(RequestRefused));

        Assert.Equal("r-1", s.The<RequestRefused>().EvidenceId);
    }

    [Fact]
    public void the_request_itself_is_in_the_stream_before_the_refusal()
    {
        var s = Scenario.AliceOnTheBasementServer().When(Alice.Asks("dance"));

        Assert.Equal("dance", s.The<SignalRecorded>().Evidence.Detail("action"));
    }
}
