using System.Net;
using System.Net.Sockets;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Hosting;

/// <summary>
/// The README's other way: ConnectionStrings:Presence names a PostgreSQL of one's own. A connection string the client
/// cannot read is a setting to fix (exit 2); a PostgreSQL that is away, or a wrong host, port or password, is said in
/// one line with where the server looked (exit 3) and never with the password.
/// </summary>
public sealed class starting_with_a_postgresql_of_ones_own
{
    [Fact]
    public async Task a_connection_string_that_is_not_one_is_refused_as_a_setting()
    {
        var run = await PresenceCli.RunAsync("--ConnectionStrings:Presence=garbage==", $"--Mqtt:Port={Ports.Free()}", "--Urls=http://127.0.0.1:0");

        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}\n{run.Output}");
        Assert.Contains("presence: invalid settings:\n  ConnectionStrings:Presence is not a PostgreSQL connection string: ", run.Stderr);
        Assert.DoesNotContain("Unhandled exception", run.Output);
    }

    [Fact]
    public async Task a_postgresql_that_does_not_answer_is_named_without_the_password()
    {
        // A port nothing listens on any more: connecting is refused at once.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var run = await PresenceCli.RunAsync($"--ConnectionStrings:Presence=Host=127.0.0.1;Port={port};Database=house;Username=presence;Password=hunter2-secret",
            $"--Mqtt:Port={Ports.Free()}", "--Urls=http://127.0.0.1:0");

        Assert.True(run.ExitCode == 3, $"exit {run.ExitCode}\n{run.Output}");
        Assert.Contains($"presence: PostgreSQL at 127.0.0.1:{port}, database 'house' as 'presence' (ConnectionStrings:Presence) cannot be used: ", run.Stderr);
        Assert.Contains("check that it runs and the connection string's host, port, user and password", run.Stderr);
        Assert.DoesNotContain("hunter2-secret", run.Output);
        Assert.DoesNotContain("Unhandled exception", run.Output);
    }
}
