using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Presence.Agent.Hypervisors.Simulated;

/// <summary>
/// The target side of one simulated migration: what <c>qemu -incoming tcp:…</c> is for a real VM. Takes one
/// stream at a time; a broken stream leaves the VM incoming and the listener open, so the source may try again.
/// </summary>
internal sealed class IncomingListener : IAsyncDisposable
{
    // The source sends a frame at least every tick while it streams: this long without one means it is gone.
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(10);

    private readonly string vm;
    private readonly int memoryMb;
    private readonly Func<string?, bool> arrived;
    private readonly ILogger logger;
    private readonly TcpListener listener;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task accepting;
    private int disposed;

    /// <param name="arrived">Called once the whole stream is in, with the VM's display URI; false when the VM was aborted meanwhile.</param>
    public IncomingListener(string vm, int memoryMb, Func<string?, bool> arrived, ILogger logger)
    {
        this.vm = vm;
        this.memoryMb = memoryMb;
        this.arrived = arrived;
        this.logger = logger;
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Uri = SimulatedWire.Uri("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);
        accepting = Task.Run(AcceptAsync);
    }

    public string Uri { get; }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        await stopping.CancelAsync();
        listener.Stop();
        await accepting;
        stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(stopping.Token);
                if (await ReceiveAsync(client))
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException && stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.LogError(e, "Incoming listener for {Vm} at {Uri} stopped", vm, Uri);
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>True when the VM arrived and now runs here.</summary>
    private async Task<bool> ReceiveAsync(TcpClient client)
    {
        var stream = client.GetStream();
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
        try
        {
            idle.CancelAfter(IdleTimeout);
            var line = await SimulatedWire.ReadLineAsync(stream, idle.Token);
            if (line is null || !SimulatedWire.TryParseHandshake(line, out var name, out var memory, out var displayUri))
            {
                await SimulatedWire.WriteLineAsync(stream, "ERR not a Presence simulated migration stream", idle.Token);
                return false;
            }

            if (name != vm || memory != memoryMb)
            {
                await SimulatedWire.WriteLineAsync(stream, $"ERR this listener waits for {vm} ({memoryMb} MB), not {name} ({memory} MB)", idle.Token);
                return false;
            }

            await SimulatedWire.WriteLineAsync(stream, SimulatedWire.Ok, idle.Token);
            var buffer = new byte[SimulatedWire.MaxFrame];
            long received = 0;
            while (true)
            {
                idle.CancelAfter(IdleTimeout);
                var length = await SimulatedWire.ReadFrameAsync(stream, buffer, idle.Token);
                if (length == 0)
                {
                    break;
                }

                received += length;
            }

            if (!arrived(displayUri))
            {
                await SimulatedWire.WriteLineAsync(stream, $"ERR incoming {vm} was aborted", idle.Token);
                return true;
            }

            await SimulatedWire.WriteLineAsync(stream, SimulatedWire.Running, idle.Token);
            logger.LogInformation("{Vm} arrived ({Bytes} bytes on the wire) and runs here", vm, received);
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or EndOfStreamException
                                      || (e is OperationCanceledException && !stopping.IsCancellationRequested))
        {
            logger.LogWarning("Incoming migration of {Vm} broke off: {Reason}; still waiting at {Uri}", vm, e.Message, Uri);
            return false;
        }
    }
}
