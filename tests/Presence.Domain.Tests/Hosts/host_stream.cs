using Presence.Domain.Hosts;
using static Presence.Domain.Tests.Support.TheHouse;

namespace Presence.Domain.Tests.Hosts;

/// <summary>The `host:{name}` stream: what one host's agent last said about itself.</summary>
public class host_stream
{
    private static readonly Instant At = Scenario.Start;

    private static InventoryReported Inventory(Instant at) =>
        new(Imac, 8, 16 * Gib, 12 * Gib, 1000, false, null, [Running()], at);

    [Fact]
    public void an_agent_coming_online_starts_the_stream()
    {
        var host = HostState.Evolve(null, new AgentStatusReported(Imac, true, "1.2.0", "qemu", At));

        Assert.Equal("host:imac", host.Id);
        Assert.Equal(HostState.StreamId(Imac), host.Id);
        Assert.Equal(Imac, host.Name);
        Assert.True(host.AgentOnline);
        Assert.Equal("1.2.0", host.AgentVersion);
        Assert.Equal("qemu", host.Hypervisor);
        Assert.Equal(At, host.LastReportAt);
    }

    [Fact]
    public void an_inventory_can_start_the_stream_too()
    {
        var host = HostState.Evolve(null, Inventory(At));

        Assert.Equal("host:imac", host.Id);
        Assert.False(host.AgentOnline);
        Assert.Equal(12 * Gib, host.MemoryFreeMb);
    }

    [Fact]
    public void a_last_will_takes_the_agent_offline_but_keeps_what_it_was()
    {
        var online = HostState.Evolve(null, new AgentStatusReported(Imac, true, "1.2.0", "qemu", At));

        var gone = HostState.Evolve(online, new AgentStatusReported(Imac, false, null, null, At + Duration.FromMinutes(1)));

        Assert.False(gone.AgentOnline);
        Assert.Equal("1.2.0", gone.AgentVersion);
        Assert.Equal("qemu", gone.Hypervisor);
        Assert.Equal(At + Duration.FromMinutes(1), gone.LastReportAt);
    }

    [Fact]
    public void the_agent_is_as_it_is_since_its_word_last_changed_not_since_its_last_report()
    {
        var online = HostState.Evolve(null, new AgentStatusReported(Imac, true, "1.2.0", "qemu", At));
        var reported = HostState.Evolve(online, Inventory(At + Duration.FromMinutes(1)));
        var reconnected = HostState.Evolve(reported, new AgentStatusReported(Imac, true, null, null, At + Duration.FromMinutes(2)));
        Assert.Equal(At, reconnected.AgentSince);

        var gone = HostState.Evolve(reconnected, new AgentStatusReported(Imac, false, null, null, At + Duration.FromMinutes(3)));
        Assert.Equal(At + Duration.FromMinutes(3), gone.AgentSince);
    }

    [Fact]
    public void an_inventory_replaces_the_facts_and_keeps_the_agent_status()
    {
        var online = HostState.Evolve(null, new AgentStatusReported(Imac, true, "1.2.0", "qemu", At));

        var host = HostState.Evolve(online, Inventory(At + Duration.FromSeconds(30)));

        Assert.True(host.AgentOnline);
        Assert.Equal(8, host.Cpus);
        Assert.Equal(16 * Gib, host.MemoryMb);
        Assert.Equal(12 * Gib, host.MemoryFreeMb);
        Assert.Equal(1000, host.LinkMbps);
        Assert.Equal([Running()], host.Vms);
        Assert.Equal(At + Duration.FromSeconds(30), host.LastReportAt);
    }

    [Fact]
    public void its_facts_are_what_a_decision_reads()
    {
        var host = HostState.Evolve(HostState.Evolve(null, new AgentStatusReported(Laptop, true, null, null, At)),
            new InventoryReported(Laptop, 4, 16 * Gib, 10 * Gib, 300, true, 42, [Running()], At));

        var facts = host.ToFacts();

        Assert.True(facts.SameAs(new HostFacts(Laptop, true, 16 * Gib, 10 * Gib, 300, true, 42, [Running()])));
        Assert.True(facts.Runs(Vm));
    }

    [Fact]
    public void other_events_leave_it_as_it_is()
    {
        var host = HostState.Evolve(null, new AgentStatusReported(Imac, true, null, null, At));

        Assert.Same(host, HostState.Evolve(host, new SeatChanged(AliceName, Imac, null, 1, [], At)));
    }

    [Fact]
    public void a_stream_cannot_start_with_anything_else()
    {
        Assert.Throws<InvalidOperationException>(() => HostState.Evolve(null, new SeatChanged(AliceName, Imac, null, 1, [], At)));
    }
}
