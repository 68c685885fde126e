using System.Net;
using System.Net.Sockets;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Hosting;

/// <summary>
/// A port someone else already listens on is the most common first-run failure (a mosquitto already on 1883, another
/// web server on 8080): the server says which port and what to set, in one line, and exits with the settings' code 2
/// rather than crashing with a stack trace, and the services that wait for a start end quietly with it.
/// </summary>
public sealed class refusing_a_port_in_use
{
    private static Task<(string House, string Database)> HouseAsync() => PresenceCli.HouseAndDatabaseAsync("port-taken");

    private static TcpListener Occupied()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return listener;
    }

    private static void AssertRefusedCleanly(BuiltProgram.Run run, string says)
    {
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}\n{run.Output}");
        Assert.Contains(says, run.Stderr);
        Assert.DoesNotContain("Unhandled exception", run.Output);
        Assert.DoesNotContain("BackgroundService", run.Output);
        Assert.DoesNotContain("crit:", run.Output);
    }

    [Fact]
    public async Task the_embedded_broker_names_the_mqtt_port_taken_and_what_to_set()
    {
        var (house, database) = await HouseAsync();
        using var taken = Occupied();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var run = await PresenceCli.RunAsync("--config", house, $"--ConnectionStrings:Presence={database}",
            $"--Mqtt:Port={port}", "--Urls=http://127.0.0.1:0");

        AssertRefusedCleanly(run, $"presence: the embedded MQTT broker cannot listen on 127.0.0.1:{port}");
        Assert.Contains("set Mqtt:Port to a free port, or Mqtt:Broker=external to use a running broker", run.Stderr);
    }

    [Fact]
    public async Task http_names_the_address_taken_and_what_to_set()
    {
        var (house, database) = await HouseAsync();
        using var taken = Occupied();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var run = await PresenceCli.RunAsync("--config", house, $"--ConnectionStrings:Presence={database}",
            $"--Mqtt:Port={Ports.Free()}", $"--Urls=http://127.0.0.1:{port}");

        AssertRefusedCleanly(run, $"presence: HTTP cannot listen on http://127.0.0.1:{port}: the address is already in use");
        Assert.Contains("set Urls to a free address, e.g. --Urls=http://127.0.0.1:8081", run.Stderr);
    }
}
