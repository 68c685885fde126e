namespace Presence.Domain.Tests.Support;

/// <summary>
/// Given/When/Then on the pure decider. History is a list of events; <see cref="State"/> is its fold. A given step is
/// decided and its events appended, so a test can say "given alice logged in at the iMac" instead of spelling out
/// the events; <see cref="When"/> decides one more input, appends its events too, and keeps them for the Then.
/// </summary>
public sealed class Scenario
{
    public static readonly Instant Start = Instant.FromUtc(2026, 11, 24, 18, 0);

    private readonly List<object> history = [];
    private int seeds;
    private int evidence;

    private Scenario(HousePolicy policy, HouseSnapshot house)
    {
        Policy = policy;
        House = house;
    }

    public HousePolicy Policy { get; private set; }

    /// <summary>What the agents report: sent along with every following input.</summary>
    public HouseSnapshot House { get; private set; }

    public Instant Now { get; private set; } = Start;

    /// <summary>The events of the last <see cref="When"/>.</summary>
    public IReadOnlyList<object> Events { get; private set; } = [];

    public IReadOnlyList<object> History => history;

    /// <summary>The saga after the history; null before the first event, as the decider gets it for a new stream.</summary>
    public UserSaga? State => history.Count == 0 ? null : Fold(history);

    /// <summary>The migration in flight.</summary>
    public PendingMigration Pending => State?.Migration ?? throw new InvalidOperationException("no migration in flight");

    /// <summary>A user stream that has not seen anything yet.</summary>
    public static Scenario NewStream() => new(TheHouse.Policy(), TheHouse.Facts());

    /// <summary>alice's stream after it has observed the house once: it knows her VM runs on the basement server.</summary>
    public static Scenario AliceOnTheBasementServer() => NewStream().GivenTheHouse();

    public static UserSaga Fold(IEnumerable<object> events) =>
        events.Aggregate(UserSaga.Start(TheHouse.AliceName, TheHouse.Vm), UserDecider.Evolve);

    public Guid NextSeed() => new(++seeds, 0, 0, [0, 0, 0, 0, 0, 0, 0, 0]);

    public string NextEvidenceId() => $"ev-{++evidence}";

    public Scenario WithPolicy(Func<HousePolicy, HousePolicy> change)
    {
        Policy = change(Policy);
        return this;
    }

    /// <summary>The soft rules' settings for the following inputs.</summary>
    public Scenario WithSettings(Func<PolicySettings, PolicySettings> change) => WithPolicy(p => p.Settings(change));

    public Scenario WithHouse(Func<HouseSnapshot, HouseSnapshot> change)
    {
        House = change(House);
        return this;
    }

    /// <summary>Records the current house as observed, as the decider would before its first decision.</summary>
    public Scenario GivenTheHouse() => Given(new HouseObserved(TheHouse.AliceName, House.Normalised().Hosts, Now));

    public Scenario Given(params object[] events)
    {
        history.AddRange(events);
        return this;
    }

    public Scenario Given(params Step[] steps)
    {
        foreach (var step in steps)
        {
            history.AddRange(Decide(step));
        }

        return this;
    }

    /// <summary>Time passes before the next input.</summary>
    public Scenario After(Duration duration)
    {
        Now += duration;
        return this;
    }

    /// <summary>The clock reads <paramref name="at"/>; the next input arrives a second later, as always.</summary>
    public Scenario At(Instant at)
    {
        Now = at;
        return this;
    }

    public Scenario When(Step step)
    {
        Events = Decide(step);
        history.AddRange(Events);
        return this;
    }

    /// <summary>The decider's answer to one input, at the next second, without changing the history.</summary>
    public IReadOnlyList<object> Decide(Step step)
    {
        Now += Duration.FromSeconds(1);
        return UserDecider.Decide(State, step(this), Now, Policy);
    }

    /// <summary>
    /// The last When produced exactly these event types, in this order. The record of a non-evidence input (an agent's
    /// report, a wait or timeout running out) heads every answer that changed something, so it is left out of the
    /// comparison unless named; <see cref="when_an_input_is_recorded"/> pins it down.
    /// </summary>
    public Scenario Then(params Type[] types)
    {
        var named = types.ToHashSet();
        var produced = Events.Select(e => e.GetType())
            .Where(t => named.Contains(t) || t == typeof(SignalRecorded) || !UserDecider.InputTypes.Contains(t));
        Assert.True(
            types.SequenceEqual(produced),
            $"expected [{string.Join(", ", types.Select(t => t.Name))}]\nbut got:\n{EventJson.Lines(Events)}");
        return this;
    }

    public Scenario ThenNothing()
    {
        Assert.True(Events.Count == 0, $"expected no events, but got:\n{EventJson.Lines(Events)}");
        return this;
    }

    /// <summary>The commands the last When obliges the server to send to agents.</summary>
    public IReadOnlyList<CommandToAgent> Commands => Events.SelectMany(AgentCommands.For).ToList();

    public Scenario ThenNoCommands()
    {
        Assert.True(Commands.Count == 0, $"expected no agent commands, but got:\n{EventJson.Lines(Events)}");
        return this;
    }

    /// <summary>The one event of this type from the last When.</summary>
    public T The<T>()
    {
        var matches = Events.OfType<T>().ToList();
        Assert.True(matches.Count == 1, $"expected one {typeof(T).Name}, but got:\n{EventJson.Lines(Events)}");
        return matches[0];
    }

    /// <summary>The one event of this type in the whole history.</summary>
    public T InHistory<T>() => Assert.Single(history.OfType<T>());
}
