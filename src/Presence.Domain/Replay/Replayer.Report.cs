using System.Globalization;
using NodaTime;
using Presence.Domain.Audit;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Domain.Words;

namespace Presence.Domain.Replay;

/// <summary>
/// What a replay reports: each input and the decisions on either side, in words and as keys to compare by.
/// </summary>
public static partial class Replayer
{
    /// <summary>The input, in words: a signal under its id, so the report can be followed back to the history.</summary>
    public static string Describe(IDomainEvent input) => input switch
    {
        SignalRecorded s => $"{s.Evidence.Id}: {EventText.Of(s)}",
        _ => EventText.Of(input) ?? Wording.Spaced(input.GetType().Name),
    };

    /// <summary>
    /// The decisions among some events, each with a key to compare by: what was decided and by which rule, not the
    /// ids (derived from seeds) nor the reasons' wording (which quotes times and numbers).
    /// </summary>
    public static IReadOnlyList<DecisionSummary> Decisions(IReadOnlyList<IDomainEvent> events)
    {
        // An indexed loop, not LINQ nor an enumerator: a replay summarises both sides of every step, and most have
        // no decision at all.
        List<DecisionSummary>? decisions = null;
        for (var i = 0; i < events.Count; i++)
        {
            if (Summarise(events[i]) is { } decision)
            {
                (decisions ??= []).Add(decision);
            }
        }

        return decisions ?? (IReadOnlyList<DecisionSummary>)[];
    }

    /// <summary>The key compares by what was decided and by which rule; the text is the event's own words.</summary>
    private static DecisionSummary? Summarise(IDomainEvent e) => Key(e) is { } key ? new DecisionSummary(key.Key, e, key.Rule) : null;

    /// <remarks>
    /// Each key a format and what fills it, put into words only when read: a replay compares the keys of both sides
    /// of every step and prints few, and formatting them all was a twentieth of deciding a year again.
    /// </remarks>
    private static (DecisionKey Key, string? Rule)? Key(IDomainEvent e) => e switch
    {
        SeatChanged s => (new("seat {0}", s.Seat ?? "none"), null),
        PlacementDecided d => (new("decided {0} {1}->{2} by {3}", Mode(d.Mode), d.From ?? "?", d.To, d.Rule), d.Rule),
        PlacementProposed p => (new("proposed {0} {1}->{2} by {3}", Mode(p.Mode), p.From ?? "?", p.To, p.Rule), p.Rule),
        MoveSuppressed m => (new("suppressed {0} by {1}", m.Wanted ?? "-", m.Rule), m.Rule),
        SettlingStarted s => (new("waits before {0} to {1}", Mode(s.Mode), s.Seat), null),
        SettlingLapsed => (new("wait lapsed"), null),
        RequestRefused => (new("refused"), null),
        LeavingDetected l => (new("leaving with {0}", l.Host), Rules.LeavingWithLaptop),
        HoldChanged h => (new(h.Held ? "held" : "released"), Rules.Hold),
        AutomationLevelChanged a => (new("automation {0}", a.Level.ToString()), null),
        MigrationCompleted c => (new("arrived on {0}", c.Target), null),
        MigrationFailed f => (new("move to {0} failed in {1}", f.Target, f.Phase), null),
        VmSuspended s => (new("frozen on {0}", s.Host), null),
        SuspendFailed s => (new("freeze on {0} failed", s.Host), null),
        VmResumed r => (new("woke on {0}", r.Host), null),
        ResumeFailed r => (new("wake on {0} failed", r.Host), null),
        DisplayAttached d => (new("shown on {0}", d.Host), null),
        DisplayAttachFailed d => (new("showing on {0} failed", d.Host), null),
        _ => null,
    };

    /// <summary>The mode as a key word: keys are compared (and matched by tests), never shown.</summary>
    private static string Mode(PlacementMode mode) => mode switch
    {
        PlacementMode.AttachDisplay => "show",
        PlacementMode.LiveMigration => "live-migrate",
        PlacementMode.SuspendResume => "freeze-and-wake",
        _ => "wake",
    };
}

/// <summary>
/// One decision, as replay compares it (<see cref="Key"/>) and prints it (<see cref="Text"/>). Equal when all four are.
/// </summary>
/// <remarks>
/// The words are put together when first read, not for every decision of a replay: most are compared by key and never
/// printed (`presence replay` prints the steps that differ), and the words were a seventh of deciding a year again.
/// </remarks>
public sealed class DecisionSummary : IEquatable<DecisionSummary>
{
    private readonly IDomainEvent? decision;
    private readonly DecisionKey? parts;
    private string? key;
    private string? text;

    public DecisionSummary(string key, string text, string? rule, Instant at)
    {
        this.key = key;
        this.text = text;
        Rule = rule;
        At = at;
    }

    internal DecisionSummary(DecisionKey key, IDomainEvent decision, string? rule)
    {
        parts = key;
        this.decision = decision;
        Rule = rule;
        At = decision.At;
    }

    public string Key => key ??= parts!.Value.ToString();

    public string Text => text ??= EventText.Of(decision!) ?? Wording.Spaced(decision!.GetType().Name);

    public string? Rule { get; }

    public Instant At { get; }

    /// <summary>Whether both keys say the same, compared unformatted when both are (a replay's own summaries).</summary>
    public bool SameKey(DecisionSummary other) => parts is { } mine && other.parts is { } theirs ? mine == theirs : Key == other.Key;

    public bool Equals(DecisionSummary? other) =>
        other is not null && (ReferenceEquals(this, other) || SameKey(other) && Rule == other.Rule && At == other.At && Text == other.Text);

    public override bool Equals(object? obj) => Equals(obj as DecisionSummary);

    public override int GetHashCode() => HashCode.Combine(Key, Rule, At);

    public override string ToString() => $"DecisionSummary {{ Key = {Key}, Text = {Text}, Rule = {Rule}, At = {At} }}";
}

/// <summary>A decision's key before it is put into words: a format (which also tells the kind) and what fills it.</summary>
internal readonly record struct DecisionKey(string Format, string? A = null, string? B = null, string? C = null, string? D = null)
{
    public override string ToString() => string.Format(CultureInfo.InvariantCulture, Format, A, B, C, D);
}

/// <summary>
/// One input and what came of it: as recorded and as replayed. Either side is empty when the input happened on one
/// side only (an answer to a command the other never sent, say); <see cref="Note"/> says why. The input is put into
/// words when first read, as a decision is (<see cref="DecisionSummary"/>). Equal when all five are.
/// </summary>
public sealed class ReplayStep : IEquatable<ReplayStep>
{
    private readonly IDomainEvent? recorded;
    private string? input;

    public ReplayStep(Instant at, string input, IReadOnlyList<DecisionSummary> recorded, IReadOnlyList<DecisionSummary> replayed, string? note)
        : this(at, recorded, replayed, note) => this.input = input;

    internal ReplayStep(Instant at, IDomainEvent input, IReadOnlyList<DecisionSummary> recorded, IReadOnlyList<DecisionSummary> replayed, string? note)
        : this(at, recorded, replayed, note) => this.recorded = input;

    private ReplayStep(Instant at, IReadOnlyList<DecisionSummary> recorded, IReadOnlyList<DecisionSummary> replayed, string? note)
    {
        At = at;
        Recorded = recorded;
        Replayed = replayed;
        Note = note;
    }

    public Instant At { get; }

    public string Input => input ??= Replayer.Describe(recorded!);

    public IReadOnlyList<DecisionSummary> Recorded { get; }

    public IReadOnlyList<DecisionSummary> Replayed { get; }

    public string? Note { get; }

    /// <remarks>An indexed loop: a report asks this of every step, and LINQ's iterators were most of what it cost.</remarks>
    public bool Differs
    {
        get
        {
            if (Recorded.Count != Replayed.Count)
            {
                return true;
            }

            for (var i = 0; i < Recorded.Count; i++)
            {
                if (!Recorded[i].SameKey(Replayed[i]))
                {
                    return true;
                }
            }

            return false;
        }
    }

    public bool Equals(ReplayStep? other) => other is not null && (ReferenceEquals(this, other) ||
        At == other.At && Note == other.Note && Input == other.Input && Recorded.SequenceEqual(other.Recorded) && Replayed.SequenceEqual(other.Replayed));

    public override bool Equals(object? obj) => Equals(obj as ReplayStep);

    public override int GetHashCode() => HashCode.Combine(At, Note, Recorded.Count, Replayed.Count);

    public override string ToString() => $"ReplayStep {{ At = {At}, Input = {Input}, Recorded = {Recorded.Count}, Replayed = {Replayed.Count}, Note = {Note} }}";
}

/// <summary>The outcome of a replay: every step, and whether any decision would differ from what happened.</summary>
public sealed record ReplayReport(
    string User,
    string? RecordedPolicy,
    string ReplayPolicy,
    Instant? From,
    Instant? To,
    IReadOnlyList<ReplayStep> Steps,
    IReadOnlyList<IDomainEvent> Events)
{
    public int Differences
    {
        get
        {
            var differences = 0;
            for (var i = 0; i < Steps.Count; i++)
            {
                differences += Steps[i].Differs ? 1 : 0;
            }

            return differences;
        }
    }

    public bool Identical => Differences == 0;
}
