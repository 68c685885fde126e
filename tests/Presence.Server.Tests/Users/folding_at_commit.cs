using JasperFx.Events;
using JasperFx.Events.Daemon;
using NodaTime;
using Presence.Domain.Signals;
using Presence.Domain.Users;
using Presence.Server.Users;

namespace Presence.Server.Tests.Users;

/// <summary>
/// Marten's inline projection stores the saga the decisions left instead of folding their events again, and only when
/// it folds exactly those events onto exactly the saga they started from (Users/UserSagaProjection).
/// </summary>
public class folding_at_commit
{
    private static readonly Instant Start = Instant.FromUtc(2026, 12, 7, 23, 0);
    private readonly UserSagaProjection projection = new();

    [Fact]
    public void the_saga_the_decisions_left_is_stored_as_it_is()
    {
        var (from, events, after) = Decided(UserSaga.Start("alice", "alice-vm"));

        var (stored, action) = projection.DetermineAction(from, "alice", events);

        Assert.Same(after, stored);
        Assert.Equal(ActionType.Store, action);
    }

    [Fact]
    public void a_new_stream_stores_the_saga_its_first_decision_left()
    {
        var (_, events, after) = Decided(null);

        Assert.Same(after, projection.DetermineAction(null, "alice", events).Item1);
    }

    [Fact]
    public void another_saga_to_start_from_is_folded()
    {
        var (from, events, after) = Decided(UserSaga.Start("alice", "alice-vm"));
        var another = from! with { Decisions = 7 };

        var (stored, _) = projection.DetermineAction(another, "alice", events);

        Assert.NotSame(after, stored);
        Assert.Equal(7, stored!.Decisions);
        Assert.Equal(Start.Plus(Duration.FromSeconds(2)), stored.NewestEvidence["seat-b"]);
    }

    [Fact]
    public void other_events_than_those_decided_are_folded()
    {
        var (from, events, after) = Decided(UserSaga.Start("alice", "alice-vm"));

        var (stored, _) = projection.DetermineAction(from, "alice", [events[^1]]);

        Assert.NotSame(after, stored);
        Assert.False(stored!.NewestEvidence.ContainsKey("seat-a"));
    }

    [Fact]
    public void a_stream_with_nothing_appended_keeps_its_saga_and_none_is_made_for_none()
    {
        var saga = UserSaga.Start("alice", "alice-vm");

        Assert.Equal((saga, ActionType.Store), projection.DetermineAction(saga, "alice", []));
        Assert.Equal(ActionType.Nothing, projection.DetermineAction(null, "alice", []).Item2);
    }

    /// <summary>Two signals folded as the decider folds them, remembered as a session's append remembers them.</summary>
    private static (UserSaga? From, IReadOnlyList<IEvent> Events, UserSaga After) Decided(UserSaga? from)
    {
        object[] data = [Signal("seat-a", Start.Plus(Duration.FromSeconds(1))), Signal("seat-b", Start.Plus(Duration.FromSeconds(2)))];
        var after = data.Aggregate(from ?? UserSaga.Start("alice", null), UserDecider.Evolve);
        UserSagaProjection.Remember(data[^1], from, after, data.Length);
        return (from, [.. data.Select(d => (IEvent)new Event<SignalRecorded>((SignalRecorded)d))], after);
    }

    private static SignalRecorded Signal(string seat, Instant at) =>
        new("alice", new Evidence(seat + "-" + at.ToUnixTimeTicks(), EvidenceKind.Idle, seat, "alice",
            new Dictionary<string, string> { ["state"] = "idle" }, at), at, at);
}
