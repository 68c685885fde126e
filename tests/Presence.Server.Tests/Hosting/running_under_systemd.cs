using System.Net;
using System.Net.Http;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;
using Presence.Tests.Shared;

namespace Presence.Server.Tests.Hosting;

/// <summary>
/// integrations/linux runs the server as a Type=notify unit: systemd counts it as started when it says READY=1, and
/// units ordered after it (the agent of the same computer) wait until then.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class running_under_systemd
{
    [Fact]
    public async Task it_says_ready_once_it_answers_and_stopping_when_told_to_stop()
    {
        var directory = PostgresCluster.NewScratchDirectory("systemd");
        var http = Ports.Free();
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "house.json"), TestHouse.Json);
        using var server = UnderSystemd.Start(directory,
        [
            "dotnet", typeof(PresenceApp).Assembly.Location,
            .. TestServer.Arguments(directory, $"http://127.0.0.1:{http}", Ports.Free(), Ports.Free(), "systemd", external: false),
            $"--ConnectionStrings:Presence={await PostgresCluster.NewDatabaseAsync("systemd")}",
        ], environment => environment.Remove("ConnectionStrings__Presence"));

        Assert.Equal("READY=1", await server.NextNotificationAsync(TimeSpan.FromSeconds(90)));

        // Ready means it answers: its health is good the moment systemd hears it is started.
        using var client = new HttpClient();
        var health = await client.GetAsync(new Uri($"http://127.0.0.1:{http}/health"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        await server.StopAsync();
        Assert.Equal("STOPPING=1", await server.NextNotificationAsync(TimeSpan.FromSeconds(30)));
        await server.WaitForExitAsync(TimeSpan.FromSeconds(60));
    }
}
