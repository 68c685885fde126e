using System.Text.Json;
using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.House;

/// <summary>
/// A user's stream records what of the house changed (<see cref="HouseChanged"/>), not the whole house at every
/// decision, and the saga keeps a fingerprint per host instead of every host's facts. Streams written before, with
/// the whole house each time (<see cref="HouseObserved"/>), fold and replay as they did, and go on with changes.
/// </summary>
public class when_the_house_changes
{
    [Fact]
    public void only_the_hosts_whose_facts_changed_are_recorded()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.FreeMemory(Imac, 3 * Gib).OnBattery(Laptop, 40))
            .When(Alice.LogsInAt(Basement))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged));

        var changed = s.The<HouseChanged>();
        Assert.Equal([Imac, Laptop], changed.Hosts.Select(h => h.Name));
        Assert.Equal(3 * Gib, changed.Hosts[0].MemoryFreeMb);
        Assert.Empty(changed.Gone);
        Assert.Equal(s.Now, changed.At);
    }

    [Theory]
    [InlineData(0)] // the test house's four hosts: diffed each time
    [InlineData(20)] // an office's many: the answer "unchanged" kept for the snapshot (HouseSeen.Diff)
    public void a_seen_house_that_held_one_snapshot_still_tells_a_change_in_the_next(int more)
    {
        var extra = Enumerable.Range(1, more).Select(i => HostFacts.Unknown($"pc-{i:D2}")).ToList();
        HouseSnapshot Of(HouseSnapshot h) => new HouseSnapshot([.. h.Hosts, .. extra]).Normalised();
        var house = Of(Facts());
        var seen = HouseSeen.Of(house.Hosts, Vm);
        Assert.Equal((0, 0), (seen.Diff(house).Changed.Count, seen.Diff(house).Gone.Count)); // found to hold, then kept so

        var changed = Of(Facts().FreeMemory(Imac, 3 * Gib));
        Assert.Equal([Imac], seen.Diff(changed).Changed.Select(h => h.Name));
        var fewer = new HouseSnapshot(house.Hosts.Where(h => h.Name != KidsPc).ToList());
        Assert.Equal([KidsPc], seen.Diff(fewer).Gone);
        Assert.Empty(seen.Diff(house).Changed);

        // Another seen house is no more told "unchanged" by the snapshot the first one held.
        var other = HouseSeen.Of(changed.Hosts, Vm);
        Assert.Equal([Imac], other.Diff(house).Changed.Select(h => h.Name));
        Assert.Same(house, house.Normalised());
        var unordered = new HouseSnapshot([.. house.Hosts.Reverse()]);
        Assert.Equal(house.Hosts.Select(h => h.Name), unordered.Normalised().Hosts.Select(h => h.Name));
    }

    [Fact]
    public void a_host_gone_from_the_house_is_recorded_by_name()
    {
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => new HouseSnapshot(h.Hosts.Where(f => f.Name != KidsPc).ToList()))
            .When(Alice.LogsInAt(Basement))
            .Then(typeof(HouseChanged), typeof(SignalRecorded), typeof(SeatChanged));

        var changed = s.The<HouseChanged>();
        Assert.Empty(changed.Hosts);
        Assert.Equal([KidsPc], changed.Gone);
        Assert.Equal([Basement, Imac, Laptop], s.State!.HouseSeen.Prints.Keys);
    }

    [Fact]
    public void a_change_folds_into_the_same_saga_as_the_whole_house_would()
    {
        var before = Scenario.AliceOnTheBasementServer().State!;
        var now = Instant.FromUtc(2026, 11, 24, 19, 0);
        var house = Facts().VmRunsOn(Laptop).Offline(Imac).Normalised();

        var byChange = UserDecider.Evolve(before, new HouseChanged(AliceName, [house.Host(Imac), house.Host(Laptop), house.Host(Basement)], [], now));
        var byWhole = UserDecider.Evolve(before, new HouseObserved(AliceName, house.Hosts, now));

        Assert.Equal(Laptop, byChange.VmHost);
        Assert.Equal(Json(byWhole), Json(byChange));
        Assert.False(byChange.HouseSeen.AgentOnline(Imac));
        Assert.True(byChange.HouseSeen.AgentOnline(Laptop));
        Assert.True(byChange.HouseSeen.Runs(Laptop, Vm));
        Assert.False(byChange.HouseSeen.Runs(Basement, Vm));
        Assert.False(byChange.HouseSeen.AgentOnline("no-such-host"));
    }

    [Fact]
    public void a_stream_recorded_with_whole_houses_goes_on_with_changes_only()
    {
        // Given a stream as servers wrote it before: the whole house observed.
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.InMaintenance(KidsPc))
            .When(Alice.LogsInAt(Basement));

        Assert.IsType<HouseObserved>(s.History[0]);
        Assert.Equal([KidsPc], s.The<HouseChanged>().Hosts.Select(h => h.Name));
    }

    [Fact]
    public void the_house_a_stream_recorded_is_its_changes_folded_in_order()
    {
        var whole = Facts().Normalised();
        var later = whole.FreeMemory(Imac, 1 * Gib).Offline(Laptop);
        var t = Instant.FromUtc(2026, 11, 24, 19, 0);
        object[] stream =
        [
            new HouseChanged(AliceName, whole.Hosts, [], t),
            new HouseChanged(AliceName, [later.Host(Imac), later.Host(Laptop)], [], t),
            new HouseChanged(AliceName, [], [KidsPc], t),
        ];

        var folded = stream.Aggregate(HouseSnapshot.Empty, HouseChanged.Fold);

        var expected = new HouseSnapshot(later.Hosts.Where(h => h.Name != KidsPc).ToList());
        Assert.True(expected.SameAs(folded), string.Join("\n", folded.Hosts));
        // A whole house recorded the old way replaces whatever was folded before it.
        Assert.True(whole.SameAs(HouseChanged.Fold(folded, new HouseObserved(AliceName, whole.Hosts, t))));
    }

    [Fact]
    public void a_fingerprint_changes_with_every_fact_and_with_nothing_else()
    {
        var host = Facts().Host(Basement);
        HostFacts[] changed =
        [
            host with { AgentOnline = !host.AgentOnline },
            host with { MemoryMb = host.MemoryMb + 1 },
            host with { MemoryFreeMb = host.MemoryFreeMb + 1 },
            host with { LinkMbps = null },
            host with { OnBattery = !host.OnBattery },
            host with { BatteryPercent = 99 },
            host with { InMaintenance = !host.InMaintenance },
            host with { Vms = [] },
            host with { Vms = [.. host.Vms.Select(v => v with { State = VmRunState.Paused })] },
            host with { Vms = [.. host.Vms.Select(v => v with { DisplayUri = null })] },
            host with { Vms = [.. host.Vms.Select(v => v with { MemoryMb = v.MemoryMb + 1 })] },
            host with { Name = "basement2" },
        ];

        var print = HouseSeen.PrintOf(host);
        Assert.Equal(print, HouseSeen.PrintOf(host with { Vms = host.Vms.ToList() }));
        Assert.Equal(changed.Length, changed.Select(HouseSeen.PrintOf).Append(print).Distinct().Count() - 1);
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 4)]
    [InlineData(3, 4)]
    [InlineData(4, 14)] // a change of more than eight hosts looks its names up in a set, fewer by going through them
    public void each_change_folded_in_keeps_what_the_whole_house_would(int seed, int hosts)
    {
        foreach (var vm in new[] { "v1", "v2", null })
        {
            FoldedKeepsWhatTheWholeHouseWould(seed, hosts, vm);
        }
    }

    private static void FoldedKeepsWhatTheWholeHouseWould(int seed, int hosts, string? vm)
    {
        // Random changes of a house (memory, battery, agents lost and back, VMs moving, paused, stopped, a host gone
        // and back): folding each change must keep exactly what seeing the whole house afresh keeps, for the user's
        // VM (vm) and no other.
        var random = new Random(seed);
        var names = Enumerable.Range(0, hosts).Select(i => ((char)('a' + i)).ToString()).Reverse().ToArray();
        string[] vms = ["v1", "v2", "v3"];
        HostFacts Host(string name) => new(name, random.Next(4) > 0, 16 * Gib, random.Next(16) * Gib, 1000, random.Next(2) == 0,
            random.Next(3) == 0 ? random.Next(100) : null,
            [.. vms.Where(_ => random.Next(3) == 0).Select(v => new VmFact(v, (VmRunState)random.Next(5), 2 * Gib, $"spice://{name}:{v}"))]);

        var house = names.ToDictionary(n => n, Host);
        var seen = HouseSeen.Of(house.Values, vm);
        var observed = seen; // the same house recorded whole at every step (HouseObserved, older streams)
        HostFacts[] previous = [.. house.Values];
        for (var step = 0; step < 500; step++)
        {
            var changed = house.Keys.Where(_ => random.Next(3) == 0).ToList()
                .Select(n => house[n] = random.Next(2) == 0 ? Host(n) : house[n] with { MemoryFreeMb = random.Next(16) * Gib }).ToList();
            var unchanged = house.Keys.Where(k => changed.All(c => c.Name != k)).ToList();
            string[] gone = house.Count > 2 && unchanged.Count > 0 && random.Next(10) == 0 ? [unchanged[random.Next(unchanged.Count)]] : [];
            foreach (var g in gone)
            {
                house.Remove(g);
            }

            foreach (var back in names.Where(n => !house.ContainsKey(n) && !gone.Contains(n) && random.Next(4) == 0).ToList())
            {
                changed.Add(house[back] = Host(back));
            }

            seen = seen.With(changed, gone, vm);
            Assert.Equal(Json(HouseSeen.Of(house.Values, vm)), Json(seen));
            Assert.All(seen.Running.Keys, k => Assert.Equal(vm, k));

            HostFacts[] whole = [.. house.Values];
            observed = observed.Observed(whole, vm);
            Assert.Equal(Json(seen), Json(observed));
            Assert.Same(observed, observed.Observed(whole, vm)); // the same house again: kept as it is
            var another = vm == "v1" ? "v2" : "v1"; // kept for another VM: where this one runs is learnt anew
            Assert.Equal(Json(seen), Json(HouseSeen.Of(whole, another).For(vm).Observed(whole, vm)));
            Assert.Equal(Json(seen), Json(HouseSeen.Of(previous, another).For(vm).Observed(whole, vm)));
            previous = whole;
        }
    }

    [Fact]
    public void the_saga_keeps_where_its_own_vm_runs_and_learns_a_new_vms_home_at_once()
    {
        const string work = "alice-work";
        var s = Scenario.AliceOnTheBasementServer()
            .WithHouse(h => h.Change(Imac, f => f with { Vms = [Running(work, "spice://imac:5931")] }))
            .When(Alice.LogsInAt(Basement));

        // Another VM's home is not the saga's business (a 500-seat office would carry 500 of them in every saga).
        Assert.Equal([Imac], s.The<HouseChanged>().Hosts.Select(h => h.Name));
        Assert.Equal([Vm], s.State!.HouseSeen.Running.Keys);
        Assert.Empty(s.State.HouseSeen.HostsRunning(work));

        // Alice's desktop becomes that other VM: the house is recorded whole once, so the saga knows where it runs.
        s.WithPolicy(p => p with
        {
            Users = [.. p.Users.Select(u => u with { Vm = work })],
            Vms = [.. p.Vms, new VmSpec(work, 8 * Gib, AliceName)],
        }).When(Alice.LogsInAt(Imac));

        Assert.Equal(work, s.The<UserEnrolled>().Vm);
        Assert.Equal(Facts().Hosts.Count, s.The<HouseChanged>().Hosts.Count);
        Assert.Equal([Imac], s.State!.HouseSeen.HostsRunning(work));
        Assert.Equal(Imac, s.State.VmHost);
    }

    [Fact]
    public void the_saga_of_a_fifty_computer_house_keeps_a_fraction_of_its_facts()
    {
        var hosts = Enumerable.Range(1, 50).Select(i => new HostFacts(
            $"pc-{i:00}", true, 32 * Gib, 20 * Gib, 1000, false, null,
            [new VmFact($"vm-{i:00}", VmRunState.Running, 8 * Gib, $"spice://pc-{i:00}:5930")])).ToList();
        var saga = UserDecider.Evolve(UserSaga.Start(AliceName, "vm-07"), new HouseChanged(AliceName, hosts, [], Scenario.Start));

        var marks = Json(saga.HouseSeen).Length;
        var facts = Json(new HouseSnapshot(hosts)).Length;

        Assert.Equal("pc-07", saga.VmHost);
        Assert.True(marks * 3 < facts, $"the saga's marks take {marks} bytes, the house's facts {facts}");
    }

    private static string Json(object value) => JsonSerializer.Serialize(value);
}
