using System.Diagnostics;
using System.Globalization;

namespace Presence.Benchmarks.EndToEnd;

public static partial class HouseBenchmark
{
    /// <summary>
    /// Several people sit down at once, each at a seat of their own: each login's attach_display goes to a different
    /// agent. Commands for different agents leave side by side (the outbound queue's lanes, one per agent); a person
    /// still waits for those whose inputs share their lane (Arrivals.Lanes) and for the two cores. Timed per login from
    /// the moment all were published; the round's last one is when every seat shows its person's desktop.
    /// </summary>
    private static async Task MeasureTogetherAsync(BenchHouse house, Dictionary<string, BenchClient> publishers,
        BenchClient watcher, HouseBenchOptions options, HouseReport report, TextWriter log)
    {
        var together = options.Together;
        if (together > house.Seats - 1)
        {
            throw new ArgumentException($"{together} people at once need {together} seats besides the warm path's user's; the house has {house.Seats}");
        }

        await SayAsync(log, $"together: {together} people log in at once at seats of their own, {HouseBenchOptions.TogetherRounds} times");
        var each = new List<double>();
        var lasts = new List<double>();
        for (var round = 0; round < HouseBenchOptions.TogetherRounds; round++)
        {
            // The warm path's user (the first) keeps out of it; the seats move round the house from one round to the next.
            var people = Enumerable.Range(1, together)
                .Select(j => (User: house.UserNames[j], Seat: house.SeatNames[(round * together + j) % house.Seats], Id: $"together-{round:D3}-{j:D3}"))
                .ToList();
            var mark = watcher.Count;
            var start = Stopwatch.GetTimestamp();
            await Task.WhenAll(people.Select(p => publishers[p.Seat].PublishAsync($"presence/hosts/{p.Seat}/signals/session",
                $$"""{"id":"{{p.Id}}","user":"{{p.User}}","state":"login","seat":"console"}""")));
            var times = await Task.WhenAll(people.Select(async p =>
            {
                var vm = BenchHouse.VmOf(p.User);
                var attach = await watcher.WaitForAsync(mark,
                    a => a.Topic == $"presence/agents/{p.Seat}/commands" && IsCommand(a, "attach_display", vm), options.Stall,
                    $"attach_display of {vm} at {p.Seat} after {p.Id}");
                return Stopwatch.GetElapsedTime(start, attach.Timestamp).TotalMilliseconds;
            }));
            each.AddRange(times);
            lasts.Add(times.Max());

            // The next round starts a moment after every logout's detach_display has reached its agent, as the warm path's.
            mark = watcher.Count;
            foreach (var p in people)
            {
                await publishers[p.Seat].PublishAsync($"presence/hosts/{p.Seat}/signals/session",
                    $$"""{"id":"{{p.Id}}-out","user":"{{p.User}}","state":"logout","seat":"console"}""");
            }

            await Task.WhenAll(people.Select(p => watcher.WaitForAsync(mark,
                a => a.Topic == $"presence/agents/{p.Seat}/commands" && IsCommand(a, "detach_display", BenchHouse.VmOf(p.User)), options.Stall,
                $"detach_display of {BenchHouse.VmOf(p.User)} at {p.Seat} after {p.Id}-out")));
            await Task.Delay(BetweenLogins);
        }

        var sorted = each.Order().ToList();
        var of = string.Create(CultureInfo.InvariantCulture, $"{together} logins at once at {together} seats, {HouseBenchOptions.TogetherRounds} rounds");
        report.Add("together_p50", $"{of}: login → attach_display at its agent, p50", Percentile(sorted, 50), "ms");
        report.Add("together_p95", $"{of}: login → attach_display at its agent, p95", Percentile(sorted, 95), "ms");
        report.Add("together_last", $"{of}: until every seat shows its person's desktop, median of the rounds", Median(lasts), "ms");
    }
}
