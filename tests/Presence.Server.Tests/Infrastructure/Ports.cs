using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Presence.Server.Tests.Infrastructure;

public static class Ports
{
    private static readonly ConcurrentDictionary<int, byte> Given = new();

    /// <summary>
    /// A loopback port nobody listens on, below Linux's ephemeral range (32768-60999): a port the kernel hands out
    /// for listening on 0 is also one it may give any outgoing connection before the test binds it (CI once saw
    /// "Address already in use" that way). Each is given once per test run.
    /// </summary>
    public static int Free()
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(20000, 32000);
            if (!Given.TryAdd(port, 0))
            {
                continue;
            }

            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken by something else on this machine: try another.
            }
        }

        throw new InvalidOperationException("no free loopback port between 20000 and 32000");
    }
}
