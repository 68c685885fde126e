using static Presence.Domain.Tests.Support.TheFamily;

namespace Presence.Domain.Tests.Replay;

/// <summary>
/// Replay decides a user's recorded inputs again. Under the settings they were decided with it must come to the
/// same decisions, step by step; under other settings it shows what would have differed, and says so.
/// </summary>
public class replaying_a_history
{
    private const string Alice = TheFamily.Alice;

    [Theory]
    [InlineData(TheFamily.Alice)]
    [InlineData(TheFamily.Bob)]
    [InlineData(TheFamily.Carol)]
    [InlineData(TheFamily.Dan)]
    public void the_recorded_day_replays_to_the_same_decisions_and_events(string user)
    {
        var day = Day.a_day_in_the_house.Play();
        var history = day.History(user);

        var report = Replayer.Replay(history, day.Policy);

        Assert.True(report.Identical, Lines(report));
        Assert.Contains(report.Steps, s => s.Recorded.Count > 0);
        // Not only the decisions: the whole stream comes out the same, ids and all, because the seeds are recorded.
        var recorded = EventJson.Of(history.Select(r => (object)r.Data));
        var replayed = EventJson.Of(report.Events.Cast<object>());
        var first = recorded.Zip(replayed).TakeWhile(p => p.First == p.Second).Count();
        Assert.True(recorded.SequenceEqual(replayed),
            $"{recorded.Count} recorded, {replayed.Count} replayed; first difference at {first}:\n  {recorded.ElementAtOrDefault(first)}\n  {replayed.ElementAtOrDefault(first)}");
    }

    [Theory]
    [InlineData(TheFamily.Alice)]
    [InlineData(TheFamily.Bob)]
    [InlineData(TheFamily.Carol)]
    [InlineData(TheFamily.Dan)]
    public void the_day_recorded_with_whole_houses_as_older_servers_did_replays_the_same(string user)
    {
        var day = Day.a_day_in_the_house.Play();
        var history = day.History(user);
        var whole = WithWholeHouses(history);
        Assert.Contains(whole, r => r.Data is HouseObserved);
        Assert.DoesNotContain(whole, r => r.Data is HouseChanged);

        var asChanges = Replayer.Replay(history, day.Policy);
        var asWholes = Replayer.Replay(whole, day.Policy);

        Assert.True(asWholes.Identical, Lines(asWholes));
        Assert.Equal(asChanges.Steps.Select(Step), asWholes.Steps.Select(Step));
        // Today's decider records changes either way: the replayed streams are the same, event for event.
        Assert.Equal(EventJson.Of(asChanges.Events.Cast<object>()), EventJson.Of(asWholes.Events.Cast<object>()));
        Assert.Equal(EventJson.Of(history.Select(r => (object)r.Data)), EventJson.Of(asWholes.Events.Cast<object>()));

        // And the saga a stream of whole houses folds to decides the same as the one of changes.
        var sagaOfChanges = history.Aggregate(UserSaga.Start(user, null), (s, r) => UserDecider.Evolve(s, r.Data));
        var sagaOfWholes = whole.Aggregate(UserSaga.Start(user, null), (s, r) => UserDecider.Evolve(s, r.Data));
        Assert.Equal(EventJson.Of([sagaOfChanges]), EventJson.Of([sagaOfWholes]));

        static string Step(ReplayStep s) => $"{s.At} {s.Input} | {string.Join("; ", s.Recorded.Select(d => d.Key))} | {string.Join("; ", s.Replayed.Select(d => d.Key))} | {s.Note}";
    }

    /// <summary>The history as a server before HouseChanged wrote it: every change of the house as the whole house.</summary>
    private static List<Recorded> WithWholeHouses(IReadOnlyList<Recorded> history)
    {
        var house = HouseSnapshot.Empty;
        var whole = new List<Recorded>();
        foreach (var r in history)
        {
            house = HouseChanged.Fold(house, r.Data);
            whole.Add(r.Data is HouseChanged c ? r with { Data = new HouseObserved(c.User, house.Hosts, c.At) } : r);
        }

        return whole;
    }

    [Fact]
    public void a_ping_pong_recorded_without_a_cooldown_would_be_calmed_by_one()
    {
        var day = PingPong(cooldown: Duration.Zero);
        var moves = day.History(Alice).Count(r => r.Data is PlacementDecided);
        Assert.Equal(4, moves);

        var report = Replayer.Replay(day.History(Alice), day.Policy.Settings(p => p with { Cooldown = Duration.FromMinutes(15) }));

        Assert.False(report.Identical);
        // Only the first move is made; the later ones are suppressed, and she is shown her VM where she sits instead.
        var replayedMoves = report.Steps.SelectMany(s => s.Replayed).Where(d => d.Key.StartsWith("decided live-migrate", StringComparison.Ordinal)).ToList();
        Assert.Single(replayedMoves);
        Assert.Equal(2, report.Steps.Count(s => s.Replayed.Any(d => d.Rule == Rules.Cooldown)));
        Assert.Contains(report.Steps, s => s.Replayed.Any(d => d.Rule == Rules.ThinClientFallback));
        // The recorded answers to moves the replay never made do not happen in it.
        Assert.Contains(report.Steps, s => s.Note == "does not happen in the replay" && s.Recorded.Any(d => d.Key.StartsWith("arrived", StringComparison.Ordinal)));
    }

    [Fact]
    public void under_its_own_settings_the_ping_pong_replays_identically()
    {
        var day = PingPong(cooldown: Duration.Zero);

        Assert.True(Replayer.Replay(day.History(Alice), day.Policy).Identical);
    }

    [Fact]
    public void a_move_the_recording_never_made_is_assumed_to_succeed_in_its_estimated_time()
    {
        var day = PingPong(cooldown: Duration.FromMinutes(15));
        Assert.Equal(1, day.History(Alice).Count(r => r.Data is PlacementDecided { Mode: PlacementMode.LiveMigration }));

        var report = Replayer.Replay(day.History(Alice), day.Policy.Settings(p => p with { Cooldown = Duration.Zero }));

        Assert.False(report.Identical);
        Assert.Contains(report.Steps, s => s.Note != null && s.Note.StartsWith("assumed", StringComparison.Ordinal)
            && s.Replayed.Any(d => d.Key == $"arrived on {Basement}"));
        Assert.Equal(4, report.Events.OfType<PlacementDecided>().Count(d => d.Mode == PlacementMode.LiveMigration));
        Assert.Equal(4, report.Events.OfType<MigrationCompleted>().Count());
    }

    [Fact]
    public void an_assumed_answer_still_comes_when_a_recorded_signal_arrives_first()
    {
        // Recorded with a cooldown: at 10:05 the laptop only shows the VM; seconds later she is active there.
        var day = new HouseDay(new LocalDate(2026, 6, 17), TheFamily.Policy().Settings(p => p with { Cooldown = Duration.FromMinutes(15), HoldDown = HoldDowns.None }));
        day.At(new LocalTime(10, 0)).Session(Alice, Imac, "login").AgentsCarryOut(Alice)
            .At(new LocalTime(10, 5)).Session(Alice, Laptop, "login").AgentsCarryOut(Alice)
            .At(new LocalTime(10, 5, 5)).Session(Alice, Laptop, "active");

        // Without one the VM would move at 10:05 (about 10 s, as the first move took), and its assumed arrival, due
        // after the signal at 10:05:05, still comes.
        var report = Replayer.Replay(day.History(Alice), day.Policy.Settings(p => p with { Cooldown = Duration.Zero }));

        Assert.Contains(report.Events.OfType<MigrationCompleted>(), c => c.Target == Laptop);
        Assert.Equal(Laptop, report.Events.Aggregate(UserSaga.Start(Alice, null), (s, e) => UserDecider.Evolve(s, e)).VmHost);
    }

    [Fact]
    public void a_longer_hold_down_makes_the_recorded_wait_run_later()
    {
        var day = new HouseDay(new LocalDate(2026, 6, 17), TheFamily.Policy().Settings(p => p with { Cooldown = Duration.Zero }));
        day.At(new LocalTime(10, 0)).Session(Alice, Imac, "login").WaitRunsOut(Alice).AgentsCarryOut(Alice);
        var login = day.History(Alice).Select(r => r.Data).OfType<SignalRecorded>().Single().At;
        var longer = day.Policy.Settings(p => p with { HoldDown = p.HoldDown with { LiveMigration = Duration.FromMinutes(2) } });

        var report = Replayer.Replay(day.History(Alice), longer);

        var decided = report.Events.OfType<PlacementDecided>().Single(d => d.Mode == PlacementMode.LiveMigration);
        Assert.Equal(login + Duration.FromMinutes(2), decided.At);
        Assert.Contains(report.Steps, s => s.Note == "runs later in the replay");
        Assert.Single(report.Events.OfType<MigrationCompleted>());
    }

    [Fact]
    public void a_window_replays_only_the_inputs_in_it_from_the_state_recorded_before_it()
    {
        var day = PingPong(cooldown: Duration.Zero);
        var history = day.History(Alice);
        var second = history.Select(r => r.Data).OfType<PlacementDecided>().ElementAt(1).At;

        var report = Replayer.Replay(history, day.Policy, from: second - Duration.FromSeconds(5), to: second + Duration.FromMinutes(2));

        Assert.True(report.Identical, Lines(report));
        Assert.All(report.Steps, s => Assert.InRange(s.At, second - Duration.FromSeconds(5), second + Duration.FromMinutes(2)));
        Assert.Single(report.Steps.SelectMany(s => s.Replayed), d => d.Key.StartsWith("decided", StringComparison.Ordinal));
    }

    [Fact]
    public void a_user_the_house_does_not_know_is_an_error_that_names_her()
    {
        var day = PingPong(cooldown: Duration.Zero);
        var stranger = day.Policy with { Users = day.Policy.Users.Where(u => u.Name != Alice).ToList() };

        var error = Assert.Throws<ArgumentException>(() => Replayer.Replay(day.History(Alice), stranger));
        Assert.Contains("'alice'", error.Message);
    }

    [Fact]
    public void a_window_that_ends_before_it_starts_is_an_error()
    {
        var day = PingPong(cooldown: Duration.Zero);

        var error = Assert.Throws<ArgumentException>(() => Replayer.Replay(day.History(Alice), day.Policy, from: day.Now, to: day.Now - Duration.FromHours(1)));
        Assert.Contains("--to", error.Message);
    }

    [Fact]
    public void a_decision_and_a_step_are_told_in_their_events_words_and_equal_the_same_with_their_words_given()
    {
        var day = PingPong(cooldown: Duration.Zero);
        var decided = day.History(Alice).Select(r => r.Data).Where(e => Replayer.Decisions([e]).Count == 1).ToList();

        Assert.Contains(decided, e => e is PlacementDecided);
        foreach (var e in decided)
        {
            var told = Replayer.Decisions([e])[0];
            var given = new DecisionSummary(told.Key, Presence.Domain.Words.EventText.Of(e)!, told.Rule, e.At);
            // Compared before its words were read: the comparison puts them together.
            Assert.Equal(given, Replayer.Decisions([e])[0]);
            Assert.Equal(given.GetHashCode(), told.GetHashCode());
            Assert.Equal(given.Text, told.Text);
            Assert.NotEqual(given, new DecisionSummary(told.Key, told.Text + "!", told.Rule, told.At));
        }

        // A step's input likewise.
        var untold = Replayer.Replay(day.History(Alice), day.Policy).Steps;
        var told2 = Replayer.Replay(day.History(Alice), day.Policy).Steps;
        Assert.Equal(told2.Select(s => new ReplayStep(s.At, s.Input, s.Recorded, s.Replayed, s.Note)), untold);
        Assert.Contains(untold, s => s.Input.Contains("login"));
    }

    /// <summary>alice goes back and forth between the iMac and the basement every five minutes, from 10:00.</summary>
    internal static HouseDay PingPong(Duration cooldown)
    {
        var day = new HouseDay(new LocalDate(2026, 6, 17), TheFamily.Policy().Settings(p => p with { Cooldown = cooldown, HoldDown = HoldDowns.None }));
        var seats = new[] { Imac, Basement, Imac, Basement };
        for (var i = 0; i < seats.Length; i++)
        {
            day.At(new LocalTime(10, 5 * i)).Session(Alice, seats[i], "login").AgentsCarryOut(Alice);
        }

        return day;
    }

    private static string Lines(ReplayReport report) => string.Join("\n", report.Steps.Where(s => s.Differs)
        .Select(s => $"{s.At} {s.Input}\n  was:   {string.Join("; ", s.Recorded.Select(d => d.Text))}\n  would: {string.Join("; ", s.Replayed.Select(d => d.Text))} {s.Note}"));
}
