using CsCheck;
using static Presence.Domain.Tests.Support.TheFamily;

namespace Presence.Domain.Tests.Properties;

/// <summary>
/// A screen shows at most one person's desktop, at any moment, over random days of the whole family: four people,
/// each with their own saga, sitting down at, locking, unlocking and leaving any computer they may use (at its
/// console or remotely), their hold-downs running out, agents carrying out what each saga waits for, requests, and
/// time passing; under random preferences and with or without hold-downs and DetachOnLock. Each screen is followed
/// as its agent would: every attach_display and detach_display in the order the server sends them.
/// </summary>
public class one_desktop_per_screen
{
    private const int Iterations = 400;

    private static readonly string[] People = [TheFamily.Alice, Bob, Carol, Dan];

    private abstract record Op;

    private sealed record Sits(int Person, int Host, string State, bool Remote) : Op;

    private sealed record WaitRunsOut(int Person) : Op;

    private sealed record AgentsCarryOut(int Person) : Op;

    private sealed record Asks(int Person, string Action) : Op;

    private sealed record Passes(int Minutes) : Op;

    private sealed record Config(PreferredMode[] Prefers, bool HoldDowns, bool DetachOnLock);

    private static readonly Gen<Op> SitsOp =
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 9],
                Gen.OneOf(EvidenceDetails.Session.Login, EvidenceDetails.Session.Login, EvidenceDetails.Session.Unlock, EvidenceDetails.Session.Active,
                    EvidenceDetails.Session.Logout, EvidenceDetails.Session.Lock),
                Gen.Int[0, 9])
            .Select(t => (Op)new Sits(t.Item1, t.Item2, t.Item3, t.Item4 == 0));

    private static readonly Gen<Op> Ops = Gen.Frequency(
        (8, SitsOp),
        (3, Gen.Int[0, 3].Select(p => (Op)new WaitRunsOut(p))),
        (4, Gen.Int[0, 3].Select(p => (Op)new AgentsCarryOut(p))),
        (1, Gen.Select(Gen.Int[0, 3], Gen.OneOf(EvidenceDetails.Request.Follow, EvidenceDetails.Request.Hold, EvidenceDetails.Request.Release, EvidenceDetails.Request.Home))
            .Select(t => (Op)new Asks(t.Item1, t.Item2))),
        (2, Gen.OneOf(0, 1, 5, 30).Select(m => (Op)new Passes(m))));

    private static readonly Gen<Config> Configs =
        Gen.Select(Gen.OneOf(PreferredMode.Local, PreferredMode.ThinClient).Array[4], Gen.Bool, Gen.Bool)
            .Select(t => new Config(t.Item1, t.Item2, t.Item3));

    private static readonly Gen<(Config, Op[])> Days = Gen.Select(Configs, Ops.Array[1, 60]);

    [Fact]
    public void a_screen_never_shows_two_peoples_desktops()
    {
        Days.Sample((config, ops) => Play(config, ops, (_, _) => { }), iter: Iterations);
    }

    [Fact]
    public void the_days_take_desktops_off_screens_for_every_reason()
    {
        // Guards the generator: a property that never sees someone sit down at another's screen proves little.
        var reasons = new HashSet<string>();
        Days.Sample((config, ops) => Play(config, ops, (_, events) =>
        {
            foreach (var detach in events.OfType<DisplayDetachRequested>())
            {
                reasons.Add(detach.Reason.Split(' ', 2)[1].Split(" at ")[0]);
            }
        }), iter: Iterations, threads: 1);

        Assert.Contains("logged out", reasons);
        Assert.Contains("sat down", reasons);
    }

    private static void Play(Config config, Op[] ops, Action<string, IReadOnlyList<IUserEvent>> seen)
    {
        var policy = Policy() with
        {
            Users = Policy().Users.Select((u, i) => u with { PreferredMode = config.Prefers[i] }).ToList(),
        };
        policy = policy with
        {
            Settings = policy.Settings with
            {
                HoldDown = config.HoldDowns ? new HoldDowns(Duration.FromSeconds(3), Duration.FromSeconds(30), Duration.FromMinutes(1)) : HoldDowns.None,
                DetachOnLock = config.DetachOnLock,
                QuietHours = null,
            },
        };

        var day = new HouseDay(new LocalDate(2026, 6, 16), policy).At(new LocalTime(8, 0));
        var screens = policy.Hosts.ToDictionary(h => h.Name, _ => new HashSet<string>());
        day.Decided = (user, events) =>
        {
            foreach (var command in events.SelectMany(AgentCommands.For))
            {
                switch (command.Kind)
                {
                    case CommandKind.AttachDisplay:
                        screens[command.Host].Add(command.Vm);
                        Assert.True(screens[command.Host].Count <= 1,
                            $"{command.Host} shows {string.Join(" and ", screens[command.Host])}; the day so far:\n{day.Trace}");
                        break;
                    case CommandKind.DetachDisplay:
                        screens[command.Host].Remove(command.Vm);
                        break;
                }
            }

            seen(user, events);
        };

        foreach (var op in ops)
        {
            switch (op)
            {
                case Sits s:
                    var person = People[s.Person];
                    var allowed = policy.User(person)!.AllowedHosts;
                    day.Signal(person, EvidenceKind.Session, allowed[s.Host % allowed.Count],
                        (EvidenceDetails.Session.State, s.State),
                        (EvidenceDetails.Session.Seat, s.Remote ? EvidenceDetails.Session.Remote : EvidenceDetails.Session.Console));
                    break;
                case WaitRunsOut w when day.State(People[w.Person]).Settling is not null:
                    day.WaitRunsOut(People[w.Person]);
                    break;
                case AgentsCarryOut a when day.State(People[a.Person]).Vm is not null:
                    day.AgentsCarryOut(People[a.Person]);
                    break;
                case Asks r when day.State(People[r.Person]).Vm is not null:
                    day.Request(People[r.Person], r.Action);
                    break;
                case Passes p:
                    day.After(Duration.FromMinutes(p.Minutes) + Duration.FromSeconds(1));
                    break;
            }
        }
    }
}
