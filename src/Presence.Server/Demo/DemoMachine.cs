using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration.Json;
using Presence.Server.Mqtt;

namespace Presence.Server.Demo;

/// <summary>What the demo asks of the machine it plays on: free ports, quiet logs, and its scratch folder gone afterwards.</summary>
internal static class DemoMachine
{
    public static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // A leftover folder in /tmp is not worth failing the demo's exit for.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The configured port when it is free on loopback (0 means any), otherwise a free one.</summary>
    public static int PortOrFree(int port, out bool moved)
    {
        moved = false;
        if (port > 0)
        {
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                moved = true;
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// The story is the output: the server's informational logs would drown it. Placed below the environment and
    /// the command line, so `--Logging:LogLevel:Default=Information` still brings them back.
    /// </summary>
    public static void QuietLogging(IConfigurationManager configuration)
    {
        var levels = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" };
        // The demo prints rejections itself, from the errors topic; Wolverine would add a stack trace for each,
        // logged under the rejected message's type.
        Type[] rejectable =
        [
            typeof(Rejections), typeof(SignalArrived), typeof(UserRequestArrived), typeof(MaintenanceArrived),
            typeof(AgentStatusArrived), typeof(AgentInventoryArrived), typeof(AgentEventArrived),
        ];
        foreach (var type in rejectable)
        {
            levels[$"Logging:LogLevel:{type.FullName}"] = "None";
        }

        var quiet = new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = levels };
        var sources = configuration.Sources;
        var lastFile = sources.Select((s, i) => (s, i)).Where(x => x.s is JsonConfigurationSource).Select(x => x.i).DefaultIfEmpty(-1).Last();
        sources.Insert(lastFile + 1, quiet);
    }
}
