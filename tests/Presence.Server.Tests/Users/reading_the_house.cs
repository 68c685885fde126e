using Marten;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using Presence.Domain.House;
using Presence.Domain.Hosts;
using Presence.Server.Tests.Infrastructure;
using Presence.Server.Users;

namespace Presence.Server.Tests.Users;

/// <summary>
/// Every decision reads the house; a host document is read again only when PostgreSQL says it changed (issue 11 §6).
/// A write through any session or node changes the row version the check asks for.
/// </summary>
public sealed class reading_the_house : IAsyncLifetime
{
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(services: TestServer.WithoutSignalWarmup);

    public Task DisposeAsync() => server.DisposeAsync().AsTask();

    private HousePolicy Policy => server.Services.GetRequiredService<HousePolicy>();

    private async Task<HouseSnapshot> ReadAsync()
    {
        await using var session = server.Store.QuerySession();
        return await HouseReads.ReadAsync(session, Policy, CancellationToken.None);
    }

    private async Task ReportAsync(bool online)
    {
        await using var session = server.Store.LightweightSession();
        session.Events.Append(HostState.StreamId("imac"), new AgentStatusReported("imac", online, "test", "simulated", SystemClock.Instance.GetCurrentInstant()));
        await session.SaveChangesAsync();
    }

    [Fact]
    public async Task the_hosts_are_read_again_only_after_one_of_them_changed()
    {
        await ReportAsync(online: true);
        var first = await ReadAsync();
        Assert.True(first.Host("imac").AgentOnline);
        Assert.Same(first, await ReadAsync());

        await ReportAsync(online: false);
        var changed = await ReadAsync();
        Assert.NotSame(first, changed);
        Assert.False(changed.Host("imac").AgentOnline);
        Assert.Equal(Policy.Hosts.Select(h => h.Name).Order(), changed.Hosts.Select(h => h.Name).Order());
        Assert.Same(changed, await ReadAsync());
    }

    [Fact]
    public async Task only_the_host_that_changed_is_read_again()
    {
        await ReportAsync(online: true);
        await using (var other = server.Store.LightweightSession())
        {
            other.Events.Append(HostState.StreamId("basement"), new AgentStatusReported("basement", true, "test", "simulated", SystemClock.Instance.GetCurrentInstant()));
            await other.SaveChangesAsync();
        }

        var first = await ReadAsync();
        await ReportAsync(online: false);
        var changed = await ReadAsync();

        // The unchanged host's facts are the instance read before (so its fingerprint is not taken again); imac's are new.
        Assert.Same(first.Host("basement"), changed.Host("basement"));
        Assert.NotSame(first.Host("imac"), changed.Host("imac"));
        Assert.False(changed.Host("imac").AgentOnline);
        Assert.True(changed.Host("basement").AgentOnline);
    }

    [Fact]
    public async Task one_session_decides_on_one_reading_of_the_house()
    {
        await ReportAsync(online: true);
        await using var session = server.Store.QuerySession();
        var first = await HouseReads.ReadAsync(session, Policy, CancellationToken.None);

        await ReportAsync(online: false);

        Assert.Same(first, await HouseReads.ReadAsync(session, Policy, CancellationToken.None));
        Assert.False((await ReadAsync()).Host("imac").AgentOnline);
    }

    [Fact]
    public async Task a_change_made_in_the_deciding_session_is_seen_and_not_kept()
    {
        await ReportAsync(online: true);
        var kept = await ReadAsync();
        await using var session = server.Store.LightweightSession();
        var offline = HostState.Evolve(null, new AgentStatusReported("imac", false, "test", "simulated", SystemClock.Instance.GetCurrentInstant()));

        var seen = await HouseReads.ReadAsync(session, Policy, CancellationToken.None, offline);

        Assert.False(seen.Host("imac").AgentOnline);
        Assert.Same(kept, await ReadAsync());
    }

    [Fact]
    public async Task a_host_document_gone_is_noticed_although_no_row_changed()
    {
        await ReportAsync(online: true);
        Assert.True((await ReadAsync()).Host("imac").AgentOnline);

        await using (var session = server.Store.LightweightSession())
        {
            session.Delete<HostState>(HostState.StreamId("imac"));
            await session.SaveChangesAsync();
        }

        // Only a row that is gone: no version changed, the count of rows did.
        var gone = await ReadAsync();
        Assert.False(gone.Host("imac").AgentOnline);
        Assert.Same(gone, await ReadAsync());
    }
}
