using Marten;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Server.Demo;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Demo;

/// <summary>
/// The demo's own script, played fast against the default house (the repository's appsettings.json), with the real
/// server, broker and simulated agents: what it prints must be what the event store holds.
/// </summary>
public sealed class the_demo_tells_the_story
{
    private const double Speed = 20;

    [Fact]
    public async Task alice_follows_to_the_imac_and_the_kids_desktop_shows_carol_with_the_reasons_printed()
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var connectionString = await PostgresCluster.NewDatabaseAsync("demo");
        var builder = PresenceApp.CreateBuilder(["--Urls=http://127.0.0.1:0", $"--Mqtt:Port={Ports.Free()}", $"--Demo:Speed={Speed}"]);
        var output = new StringWriter();

        await using (var house = await DemoHouse.StartAsync(builder, connectionString, output, guard.Token))
        {
            await house.PlayAsync(DemoScript.Story(house.Options.Speed), guard.Token);
            await house.PrintSummaryAsync(guard.Token);

            await using var session = house.Store.QuerySession();
            var alice = (await session.Events.FetchStreamAsync("alice", token: guard.Token)).Select(e => e.Data).ToList();
            var carol = (await session.Events.FetchStreamAsync("carol", token: guard.Token)).Select(e => e.Data).ToList();
            var printed = output.ToString();

            var toImac = alice.OfType<PlacementDecided>().First(d => d.To == "imac");
            Assert.Equal(PlacementMode.LiveMigration, toImac.Mode);
            Assert.Contains(alice.OfType<MigrationCompleted>(), c => c.Source == "basement" && c.Target == "imac");
            Assert.Contains($"alice     → decided ({toImac.Rule}): {toImac.Reason}", printed);
            Assert.Matches(@"alice +✓ moved basement → imac in \d+\.\d s", printed);

            var atKids = carol.OfType<PlacementDecided>().First(d => d.To == "kids");
            Assert.Equal(PlacementMode.AttachDisplay, atKids.Mode);
            Assert.Contains(carol.OfType<DisplayAttached>(), a => a.Host == "kids" && a.Vm == "carol-desktop");
            Assert.Contains($"carol     → decided ({atKids.Rule}): {atKids.Reason}", printed);
            Assert.Contains("carol     ▣ kids shows carol-desktop", printed);

            // Every step was told, and nothing the steps sent was refused.
            Assert.Contains("[9/9]", printed);
            Assert.DoesNotContain("! rejected", printed);
            Assert.DoesNotContain("(skipped", printed);
            Assert.Contains("Where everything is now", printed);
        }
    }
}
