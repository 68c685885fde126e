using System.Diagnostics;
using System.Net.Sockets;
using Presence.Agent.Configuration;
using Presence.Contracts.Agents;

namespace Presence.Agent.Hypervisors.Simulated;

/// <summary>
/// The source side of one simulated live migration, shaped like QEMU's pre-copy: memory streams while the VM
/// runs, pages the guest dirties meanwhile are sent again, and once what is left fits in the downtime limit the
/// VM pauses for the final copy and the target takes over. Time runs <see cref="SimulatedOptions.SpeedFactor"/>
/// times faster than the wall clock; reported times and rates are simulated ones.
/// </summary>
internal sealed class OutgoingMigration(SimulatedOptions simulated, MigrationRequest request, int memoryMb, string? displayUri)
{
    private const double BytesPerSecondPerMbps = 125_000;
    private const double PageBytes = 4096;
    private static readonly TimeSpan DefaultDowntimeLimit = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SwitchOverTimeout = TimeSpan.FromSeconds(10);

    private readonly double bytesPerSecond =
        Math.Min(simulated.BandwidthMbps, request.MaxBandwidthMbps ?? int.MaxValue) * BytesPerSecondPerMbps;

    private readonly TimeSpan tick = TimeSpan.FromMilliseconds(Math.Min(20, simulated.ProgressInterval.TotalMilliseconds));
    private readonly byte[] chunk = new byte[64 * 1024];
    private double unsentRealBytes;

    /// <param name="paused">Called when the VM stops for the final copy: from here on it is down.</param>
    public async Task<MigrationResult> RunAsync(
        Action paused, Func<MigrationProgress, Task> reportProgress, CancellationToken cancellationToken)
    {
        if (!SimulatedWire.TryParseUri(request.TargetUri, out var address, out var port))
        {
            throw new HypervisorException($"target_uri '{request.TargetUri}' is not tcp:<address>:<port>");
        }

        var clock = Stopwatch.StartNew();
        using var client = new TcpClient();
        await ConnectAsync(client, address, port, cancellationToken);
        var stream = client.GetStream();

        try
        {
            await SimulatedWire.WriteLineAsync(stream, SimulatedWire.Handshake(request.Vm, memoryMb, displayUri), cancellationToken);
            var answer = await SimulatedWire.ReadLineAsync(stream, cancellationToken);
            if (answer != SimulatedWire.Ok)
            {
                throw new HypervisorException($"{request.TargetHost} refused the migration: {Reason(answer)}");
            }

            long total = memoryMb * 1024L * 1024L;
            double remaining = total;
            double transferred = 0;
            var dirtyPerSecond = simulated.DirtyPagesRate * PageBytes;
            var fitsDowntime = bytesPerSecond * (request.DowntimeLimit ?? DefaultDowntimeLimit).TotalSeconds;

            // QEMU would iterate for ever when the guest dirties faster than the link; auto-converge ends that in
            // practice, so the simulation stops iterating after three full passes' worth of time.
            var giveUpAfter = 3 * total / bytesPerSecond;

            MigrationProgress Progress() => new()
            {
                TotalBytes = total,
                TransferredBytes = (long)transferred,
                RemainingBytes = (long)remaining,
                DirtyPagesRate = simulated.DirtyPagesRate,
                Mbps = Math.Round(bytesPerSecond / BytesPerSecondPerMbps, 1),
            };

            var last = clock.Elapsed;
            var lastReport = TimeSpan.Zero;

            // Sends what the bandwidth allows since the last tick; while the guest runs it dirties pages meanwhile.
            async Task TickAsync(bool guestRuns)
            {
                await Task.Delay(tick, cancellationToken);
                var now = clock.Elapsed;
                var seconds = Simulated(now - last).TotalSeconds;
                last = now;

                var sent = Math.Min(remaining, bytesPerSecond * seconds);
                await SendAsync(stream, sent, cancellationToken);
                transferred += sent;
                remaining = Math.Min(total, remaining - sent + (guestRuns ? dirtyPerSecond * seconds : 0));

                if (now - lastReport >= simulated.ProgressInterval)
                {
                    lastReport = now;
                    await reportProgress(Progress());
                }
            }

            while (remaining > fitsDowntime && Simulated(clock.Elapsed).TotalSeconds < giveUpAfter)
            {
                await TickAsync(guestRuns: true);
            }

            // Stop-and-copy: the guest is paused, nothing dirties any more, the rest goes at full bandwidth.
            paused();
            var finalCopy = TimeSpan.FromSeconds(remaining / bytesPerSecond);
            while (remaining >= 1)
            {
                await TickAsync(guestRuns: false);
            }

            remaining = 0;
            await SimulatedWire.WriteFrameAsync(stream, ReadOnlyMemory<byte>.Empty, cancellationToken);
            var switchOver = Stopwatch.StartNew();
            var handedOver = await ReadSwitchOverAsync(stream, cancellationToken);
            if (handedOver != SimulatedWire.Running)
            {
                throw new HypervisorException($"{request.TargetHost} did not start {request.Vm}: {Reason(handedOver)}");
            }

            // The final copy in simulated time (ticks are too coarse to measure it) plus the real switch-over round trip.
            var downtime = finalCopy + switchOver.Elapsed;
            await reportProgress(Progress());
            return new MigrationResult(downtime, Simulated(clock.Elapsed));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested
                                  && e is IOException or SocketException or EndOfStreamException or OperationCanceledException)
        {
            throw new HypervisorException($"connection to {request.TargetHost} at {request.TargetUri} was lost during the migration: {e.Message}", e);
        }
    }

    private TimeSpan Simulated(TimeSpan wall) => wall * simulated.SpeedFactor;

    private async Task<string?> ReadSwitchOverAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(SwitchOverTimeout);
        try
        {
            return await SimulatedWire.ReadLineAsync(stream, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Like QEMU without a return path, the source cannot tell whether the target started the VM; it
            // resumes its own copy, and the server's view of both inventories has to settle it.
            throw new HypervisorException(
                $"{request.TargetHost} did not confirm the switch-over within {SwitchOverTimeout.TotalSeconds:0} s");
        }
    }

    private async Task ConnectAsync(TcpClient client, string address, int port, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            await client.ConnectAsync(address, port, timeout.Token);
        }
        catch (SocketException e)
        {
            throw new HypervisorException($"cannot reach {request.TargetHost} at {request.TargetUri}: {e.Message}", e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HypervisorException($"cannot reach {request.TargetHost} at {request.TargetUri}: no answer within {ConnectTimeout.TotalSeconds:0} s");
        }
    }

    private async Task SendAsync(Stream stream, double simulatedBytes, CancellationToken cancellationToken)
    {
        unsentRealBytes += simulatedBytes / SimulatedWire.SimulatedBytesPerRealByte;
        while (unsentRealBytes >= 1)
        {
            var size = (int)Math.Min(chunk.Length, unsentRealBytes);
            await SimulatedWire.WriteFrameAsync(stream, chunk.AsMemory(0, size), cancellationToken);
            unsentRealBytes -= size;
        }
    }

    private static string Reason(string? answer) => answer switch
    {
        null => "the connection closed",
        _ when answer.StartsWith("ERR ", StringComparison.Ordinal) => answer[4..],
        _ => $"unexpected answer '{answer}'",
    };
}
