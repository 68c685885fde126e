using Presence.Server.Identities;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Identities;

/// <summary>
/// Easy stays safe: on loopback the first run needs nothing, but a broker or HTTP port reachable from the network
/// without credentials refuses to start, and says in one line what to do.
/// </summary>
public sealed class refusing_an_exposed_start
{
    private static Task<(string House, string Database)> HouseAsync() => PresenceCli.HouseAndDatabaseAsync("exposed");

    [Fact]
    public async Task a_broker_beyond_loopback_without_every_identity_enrolled_does_not_start()
    {
        var (house, database) = await HouseAsync();

        var run = await PresenceCli.RunAsync("--config", house, $"--ConnectionStrings:Presence={database}",
            "--Mqtt:Host=0.0.0.0", $"--Mqtt:Port={Ports.Free()}", "--Urls=http://127.0.0.1:0");

        Assert.True(run.ExitCode == 2, run.Output);
        Assert.Contains("beyond this computer", run.Stderr);
        Assert.Contains("basement, imac, laptop, homeassistant, presence-cli have no secret", run.Stderr);
        Assert.Contains("dotnet run --project src/Presence.Server -- enroll <host>", run.Stderr);
        Assert.DoesNotContain("BackgroundService", run.Output);
    }

    [Fact]
    public async Task with_every_identity_enrolled_it_starts_and_accepts_no_one_without_a_secret()
    {
        var database = await PostgresCluster.NewDatabaseAsync("enrolled");
        var secrets = new Dictionary<string, string>();
        await using (var first = await TestServer.StartAsync(database))
        {
            await using var session = first.Store.LightweightSession();
            foreach (var (name, role) in new[] { ("basement", IdentityRole.Host), ("imac", IdentityRole.Host), ("laptop", IdentityRole.Host), ("homeassistant", IdentityRole.Controller), ("presence-cli", IdentityRole.Controller) })
            {
                secrets[name] = SecretHash.NewSecret();
                session.Store(Enrolment.Of(name, role, secrets[name], NodaTime.SystemClock.Instance.GetCurrentInstant()));
            }

            await session.SaveChangesAsync();
        }

        await using var server = await TestServer.StartAsync(database, settings: ["--Mqtt:Host=0.0.0.0"]);

        Assert.Equal(MQTTnet.MqttClientConnectResultCode.BadUserNameOrPassword, await proving_who_connects.RefusalAsync(server.MqttPort, "imac-x", "imac", null));
        Assert.Equal(MQTTnet.MqttClientConnectResultCode.BadUserNameOrPassword, await proving_who_connects.RefusalAsync(server.MqttPort, "presence-agent-imac", null, null));
        await using var imac = await MqttProbe.ConnectWithAsync(server.MqttPort, "presence-agent-imac", "imac", secrets["imac"]);
        Assert.True(imac.IsConnected);
    }

    [Fact]
    public async Task http_beyond_loopback_without_protection_does_not_start_unless_the_house_says_so()
    {
        var (house, database) = await HouseAsync();

        var run = await PresenceCli.RunAsync("--config", house, $"--ConnectionStrings:Presence={database}",
            $"--Mqtt:Port={Ports.Free()}", "--Urls=http://0.0.0.0:0");

        Assert.True(run.ExitCode == 2, run.Output);
        Assert.Contains("HTTP would listen on http://0.0.0.0:0, beyond this computer", run.Stderr);
        Assert.Contains("Http:AllowUnauthenticated=true", run.Stderr);
        // A refused start is not a crash: the services that wait for the start end quietly with it.
        Assert.DoesNotContain("BackgroundService", run.Output);
        Assert.DoesNotContain("crit:", run.Output);

        await using var allowed = await TestServer.StartAsync(settings: ["--Urls=http://0.0.0.0:0", "--Http:AllowUnauthenticated=true"]);
        Assert.Equal("0.0.0.0", allowed.BaseAddress.Host);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://localhost:8080", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://192.168.1.10:8080", false)]
    [InlineData("http://basement:8080", false)]
    public void which_addresses_are_loopback(string url, bool loopback) => Assert.Equal(loopback, HttpExposure.IsLoopback(url));

    [Fact]
    public async Task plaintext_passwords_in_the_house_file_are_refused_by_name()
    {
        var run = await PresenceCli.RunAsync("--Mqtt:Passwords:imac=hunter2-plaintext");

        Assert.True(run.ExitCode == 2, run.Output);
        Assert.Contains("Mqtt:Passwords", run.Stderr);
        Assert.Contains("enroll <host>", run.Stderr);
        Assert.DoesNotContain("hunter2-plaintext", run.Output);
    }
}
