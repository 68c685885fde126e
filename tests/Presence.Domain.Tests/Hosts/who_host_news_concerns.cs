using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Hosts;

/// <summary>
/// News about one computer (maintenance, its agent coming or going, its lid, Wi-Fi or power) is handed to the users
/// it concerns. Given alice's saga, when the iMac has news, then she is asked or not.
/// </summary>
public class who_host_news_concerns
{
    private static readonly Instant At = Scenario.Start;

    /// <summary>alice with her VM on the basement server, shown there, nothing in flight: the iMac is none of her business.</summary>
    private static UserSaga Alice(Func<UserSaga, UserSaga>? given = null)
    {
        var saga = UserSaga.Start(AliceName, Vm) with { VmHost = Basement, Seat = Basement };
        return given is null ? saga : given(saga);
    }

    private static PendingMigration Move(string from, string to, CommandToAgent? sent = null) =>
        new("m-1", Vm, from, to, Phases.Preparing, "c-prepare", null, null, null, At, 8 * Gib, sent);

    private static IReadOnlyList<string> WhenTheImacHasNews(UserSaga alice) =>
        HostNews.Concerns(Imac, Policy(), [alice], Facts());

    /// <summary>
    /// The store pre-selects sagas by <see cref="HostNews.HostsInvolved"/> (an indexed list in each saga document), so
    /// every rule that picks a saga for a host's news must pick only sagas involved with that host: through every
    /// state of every person's stream in the scripted day, for every computer of the house.
    /// </summary>
    [Fact]
    public void every_rule_picks_only_sagas_involved_with_the_host()
    {
        var day = Day.a_day_in_the_house.Play();
        var (checkedStates, picks) = (0, 0);
        foreach (var user in day.Policy.Users)
        {
            var saga = UserSaga.Start(user.Name, null);
            foreach (var recorded in day.History(user.Name))
            {
                saga = UserDecider.Evolve(saga, recorded.Data);
                var involved = HostNews.HostsInvolved(saga);
                foreach (var host in day.Policy.Hosts.Select(h => h.Name))
                {
                    var sitsDown = new Evidence("e", EvidenceKind.Session, host, "someone-else",
                        new Dictionary<string, string> { ["seat"] = "console", ["state"] = "login" }, At);
                    var picked = saga.IsConcernedBy(host) || saga.WaitsOnAgentOf(host) || saga.AwaitsLocalDisplayOn(host)
                        || HostNews.SeatNews(sitsDown, day.Policy, [saga]).Contains(user.Name);
                    picks += picked ? 1 : 0;
                    Assert.True(!picked || involved.Contains(host), $"{user.Name} picked for {host} but involved with [{string.Join(", ", involved)}] after {recorded.Data.GetType().Name}");
                }

                checkedStates++;
            }
        }

        Assert.True(checkedStates > 100 && picks > 100, $"only {checkedStates} states checked, {picks} picks");
    }

    [Fact]
    public void a_saga_with_nothing_on_the_host_is_not_concerned() =>
        Assert.Empty(WhenTheImacHasNews(Alice()));

    [Fact]
    public void her_vm_running_there_concerns_her() =>
        Assert.Equal([AliceName], WhenTheImacHasNews(Alice(s => s with { VmHost = Imac })));

    [Fact]
    public void her_sitting_there_concerns_her() =>
        Assert.Equal([AliceName], WhenTheImacHasNews(Alice(s => s with { Seat = Imac })));

    [Fact]
    public void her_vm_evacuated_from_there_concerns_her() =>
        Assert.Equal([AliceName], WhenTheImacHasNews(Alice(s => s with { EvacuatedFrom = Imac })));

    [Fact]
    public void her_frozen_vm_waiting_to_wake_there_concerns_her() =>
        Assert.Equal([AliceName], WhenTheImacHasNews(Alice(s => s with { VmHost = null, Suspended = new SuspendedVm("/f", Basement, Imac, At) })));

    [Fact]
    public void a_move_from_there_concerns_her() =>
        Assert.Equal([AliceName], WhenTheImacHasNews(Alice(s => s with { VmHost = Imac, Migration = Move(Imac, Laptop) })));

    [Fact]
    public void a_move_to_there_concerns_her() =>
        Assert.Equal([AliceName], WhenTheImacHasNews(Alice(s => s with { Migration = Move(Basement, Imac) })));

    [Fact]
    public void a_suspend_or_resume_there_concerns_her() =>
        Assert.Equal([AliceName], WhenTheImacHasNews(Alice(s => s with
        {
            Operation = new PendingOperation("o-1", PendingOperation.Resume, Vm, Imac, "/f", "c-resume", Imac, At),
        })));

    [Fact]
    public void a_display_attach_waiting_there_concerns_her() =>
        Assert.Equal([AliceName], WhenTheImacHasNews(Alice(s => s with { PendingDisplay = new PendingDisplay("c-attach", Imac) })));

    [Fact]
    public void a_user_with_no_saga_yet_is_concerned_when_the_agents_show_her_vm_there()
    {
        var vmOnTheImac = Facts() with
        {
            Hosts = Facts().Hosts.Select(h => h.Name == Imac ? h with { Vms = [Running()] } : h with { Vms = [] }).ToList(),
        };

        Assert.Equal([AliceName], HostNews.Concerns(Imac, Policy(), [], vmOnTheImac));
        Assert.Empty(HostNews.Concerns(Imac, Policy(), [], Facts()));
    }

    [Fact]
    public void a_saga_outweighs_the_agents_word()
    {
        var inventoryLagging = Facts() with { Hosts = Facts().Hosts.Select(h => h with { Vms = h.Name == Imac ? [Running()] : [] }).ToList() };

        Assert.Empty(HostNews.Concerns(Imac, Policy(), [Alice()], inventoryLagging));
    }

    [Fact]
    public void a_saga_of_someone_no_longer_in_the_house_is_not_asked() =>
        Assert.Empty(HostNews.Concerns(Imac, Policy(), [Alice(s => s with { Id = "mallory", VmHost = Imac })], Facts()));

    [Fact]
    public void an_agent_announcing_itself_again_concerns_only_who_waits_on_its_answer()
    {
        var prepare = new CommandToAgent(Imac, "c-prepare", CommandKind.PrepareIncoming, Vm, 8 * Gib);
        var waiting = Alice(s => s with { Migration = Move(Basement, Imac, prepare) });
        var sittingThere = Alice(s => s with { Seat = Imac });

        Assert.Equal([AliceName], HostNews.WaitingOn(Imac, Policy(), [waiting]));
        Assert.Empty(HostNews.WaitingOn(Imac, Policy(), [sittingThere]));
        Assert.Empty(HostNews.WaitingOn(Basement, Policy(), [waiting]));
    }

    [Fact]
    public void a_suspend_or_resume_in_flight_waits_on_its_host()
    {
        var suspending = Alice(s => s with { Operation = new PendingOperation("o-1", PendingOperation.Suspend, Vm, Imac, "/f", "c-suspend", null, At) });

        Assert.Equal([AliceName], HostNews.WaitingOn(Imac, Policy(), [suspending]));
    }

    [Fact]
    public void users_come_in_the_house_files_order()
    {
        var policy = Policy() with
        {
            Users = [.. Policy().Users, new UserSpec("bob", "bob-desktop", Imac, [Imac])],
            Vms = [.. Policy().Vms, new VmSpec("bob-desktop", 4 * Gib, "bob")],
        };
        var bob = UserSaga.Start("bob", "bob-desktop") with { VmHost = Imac };

        Assert.Equal([AliceName, "bob"], HostNews.Concerns(Imac, policy, [bob, Alice(s => s with { Seat = Imac })], Facts()));
    }
}

/// <summary>
/// A person's evidence goes to that person; sitting down at a console also goes, first, to everyone whose desktop the
/// screen shows or who sits there, so theirs comes off before the person's goes on.
/// </summary>
public class who_seat_news_concerns
{
    private static readonly HousePolicy House = Policy() with
    {
        Users = [.. Policy().Users, new UserSpec("bob", "bob-desktop", Basement, [Basement, Imac]), new UserSpec("carol", "carol-music", Basement, [Basement, Imac])],
    };

    private static Evidence Session(string user, string host, string state, string seat = EvidenceDetails.Session.Console) =>
        new("ev-1", EvidenceKind.Session, host, user,
            new Dictionary<string, string> { [EvidenceDetails.Session.State] = state, [EvidenceDetails.Session.Seat] = seat }, Scenario.Start);

    private static readonly UserSaga AliceShownAtTheImac = UserSaga.Start(AliceName, Vm) with { ShownOn = Imac };
    private static readonly UserSaga CarolSeatedAtTheImac = UserSaga.Start("carol", "carol-music") with { Seat = Imac };

    [Fact]
    public void a_login_at_a_screen_showing_someone_goes_to_them_first() =>
        Assert.Equal([AliceName, "carol", "bob"],
            HostNews.SeatNews(Session("bob", Imac, EvidenceDetails.Session.Login), House, [AliceShownAtTheImac, CarolSeatedAtTheImac]));

    [Fact]
    public void a_login_at_another_screen_goes_only_to_the_person() =>
        Assert.Equal(["bob"], HostNews.SeatNews(Session("bob", Basement, EvidenceDetails.Session.Login), House, [AliceShownAtTheImac]));

    [Theory]
    [InlineData(EvidenceDetails.Session.Logout, EvidenceDetails.Session.Console)]
    [InlineData(EvidenceDetails.Session.Login, EvidenceDetails.Session.Remote)]
    public void leaving_or_a_remote_session_goes_only_to_the_person(string state, string seat) =>
        Assert.Equal(["bob"], HostNews.SeatNews(Session("bob", Imac, state, seat), House, [AliceShownAtTheImac]));

    [Fact]
    public void her_own_login_goes_to_her_once() =>
        Assert.Equal([AliceName], HostNews.SeatNews(Session(AliceName, Imac, EvidenceDetails.Session.Login), House, [AliceShownAtTheImac]));

    [Fact]
    public void evidence_about_no_person_goes_to_nobody_here() =>
        Assert.Empty(HostNews.SeatNews(new Evidence("ev-1", EvidenceKind.Lid, Imac, null, new Dictionary<string, string>(), Scenario.Start), House, [AliceShownAtTheImac]));
}
