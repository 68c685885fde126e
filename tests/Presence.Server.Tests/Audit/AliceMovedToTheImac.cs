using Marten;
using Presence.Domain.Migration;
using Presence.Domain.Placement;
using Presence.Domain.Signals;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Audit;

/// <summary>
/// One real run to ask questions about: alice logs in at the iMac, and her VM migrates there between two simulated
/// agents, every link real. The history is then what a user would find after such a morning.
/// </summary>
public sealed class AliceMovedToTheImac : IAsyncLifetime
{
    private RunningHouse house = null!;

    public TestServer Server => house.Server;
    public HttpClient Http { get; private set; } = null!;
    public PlacementDecided Decision { get; private set; } = null!;
    public MigrationCompleted Completed { get; private set; } = null!;
    public SignalRecorded Login { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        house = await RunningHouse.StartAsync(TestHouse.Json, ("basement", [("alice-desktop", 2048)]), ("imac", []));
        await house.PublishAsHostAsync("imac", "presence/hosts/imac/signals/session", """{"id":"login-1","user":"alice","state":"login","seat":"console"}""");
        Completed = await Eventually.GetAsync(
            async () => (await house.StreamAsync("alice")).OfType<MigrationCompleted>().FirstOrDefault(), "alice's migration to complete", TimeSpan.FromSeconds(60));
        var stream = await house.StreamAsync("alice");
        Decision = stream.OfType<PlacementDecided>().Single();
        Login = stream.OfType<SignalRecorded>().Single(s => s.Evidence.Id == "login-1");
        Http = new HttpClient { BaseAddress = Server.BaseAddress };
    }

    public string MigrationId => Completed.MigrationId;

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await house.DisposeAsync();
    }
}
