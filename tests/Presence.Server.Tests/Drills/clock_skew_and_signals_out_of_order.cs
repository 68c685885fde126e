using NodaTime;
using NodaTime.Text;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Seating;
using Presence.Domain.Signals;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// Drill (issue 10 §3, docs/drills.md, "clock skew: a computer 10 min off; signals out of order"), through the
/// broker and the real server with simulated agents. A computer whose clock is 10 minutes off either way has every
/// signal refused on presence/errors, naming the computer, the skew and the limit, and nothing stored. A computer
/// whose login and logout reach the server the other way round is taken in its own clock's order: no wrong move.
/// </summary>
[Trait("Category", "Drill")]
public sealed class clock_skew_and_signals_out_of_order(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>How many signals the skewed computer sends; CI sends the default, a full drill sets the variable.</summary>
    private static readonly int Skewed = Drill.Count("PRESENCE_DRILL_SKEWED", 20);

    private static readonly Duration Off = Duration.FromMinutes(10);

    private RunningHouse house = null!;

    public async Task InitializeAsync() =>
        house = await RunningHouse.StartAsync(TestHouse.Json, ("basement", [("alice-desktop", 2048)]), ("imac", []));

    public Task DisposeAsync() => house.DisposeAsync().AsTask();

    [Fact]
    public async Task skew_is_refused_and_named_and_out_of_order_signals_take_no_wrong_move()
    {
        // 1. The imac's clock is 10 minutes off, ahead and behind in turn: every login refused, none stored.
        for (var i = 0; i < Skewed; i++)
        {
            var at = Now() + (i % 2 == 0 ? Off : -Off);
            await SessionAsync($"skewed-{i:D5}", "login", at);
        }

        await Eventually.TrueAsync(() => Task.FromResult(Errors().Count >= Skewed), $"{Skewed} refusals on presence/errors");
        var errors = Errors();
        Assert.All(errors, e =>
        {
            Assert.Equal("presence/hosts/imac/signals/session", e.Json.GetProperty("topic").GetString());
            var reason = e.Json.GetProperty("error").GetString()!;
            Assert.Contains("from 'imac' is ", reason);
            Assert.Matches(@"is [+-]600s from the server clock", reason);
            Assert.EndsWith("at most 300s allowed", reason);
        });
        var storedSkewed = (await house.StreamAsync("alice")).OfType<SignalRecorded>().Count(s => s.Evidence.Id.StartsWith("skewed-", StringComparison.Ordinal));
        Assert.Equal(0, storedSkewed);

        // 2. A login and then a logout at the imac, delivered logout first: she is not seated there, nothing moves.
        var t0 = Now();
        await SessionAsync("ooo-logout-1", "logout", t0);
        await SessionAsync("ooo-login-1", "login", t0 - Duration.FromSeconds(20));
        await StoredAsync("ooo-login-1");
        var afterFirstPair = await house.StreamAsync("alice");
        Assert.DoesNotContain(afterFirstPair, e => e is SeatChanged or PlacementDecided);
        Assert.Null((await house.SagaAsync("alice"))!.Seat);
        Assert.DoesNotContain(house.Probe.All, m => m.Topic.EndsWith("/commands", StringComparison.Ordinal));

        // 3. A login (which moves her VM to the imac), then an older logout from before it: the seat stays.
        var t1 = Now();
        await SessionAsync("ooo-login-2", "login", t1);
        await Eventually.TrueAsync(async () => (await house.StreamAsync("alice")).OfType<MigrationCompleted>().Any(), "the VM moved to the imac");
        await SessionAsync("ooo-logout-2", "logout", t1 - Duration.FromSeconds(10));
        await StoredAsync("ooo-logout-2");

        var stream = await house.StreamAsync("alice");
        var saga = (await house.SagaAsync("alice"))!;
        var signals = stream.OfType<SignalRecorded>().Count(s => s.Evidence.Id.StartsWith("ooo-", StringComparison.Ordinal));
        var decisions = stream.OfType<PlacementDecided>().Count();
        output.WriteLine($"{Skewed} signals from a clock {Off.TotalMinutes:0} min off: {Errors().Count} refused, {storedSkewed} stored; " +
                         $"2 pairs out of order: {signals} of 4 signals stored, {decisions} move decided (the in-order login), " +
                         $"seat {saga.Seat}, VM on {saga.VmHost}");
        Assert.Equal(4, signals);
        Assert.Equal(1, decisions);
        Assert.Equal("imac", saga.Seat);
        Assert.Equal("imac", saga.VmHost);
        Assert.Equal(Skewed, Errors().Count);
    }

    private static Instant Now() => SystemClock.Instance.GetCurrentInstant();

    private List<Received> Errors() => house.Probe.All.Where(m => m.Topic == "presence/errors").ToList();

    /// <summary>The imac's emitter: the probe speaks for the imac (its identity).</summary>
    private Task SessionAsync(string id, string state, Instant at) =>
        house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session",
            $$"""{"id":"{{id}}","user":"alice","state":"{{state}}","seat":"console","at":"{{InstantPattern.ExtendedIso.Format(at)}}"}""");

    private Task StoredAsync(string id) => Eventually.TrueAsync(
        async () => (await house.StreamAsync("alice")).OfType<SignalRecorded>().Any(s => s.Evidence.Id == id), $"signal {id} stored");
}
