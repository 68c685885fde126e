using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Presence.Agent.Hypervisors.Simulated;

/// <summary>
/// The simulated migration stream between two agents, over TCP like QEMU's:
/// <code>
/// source → target   PRESENCE-SIM/1 &lt;vm&gt; &lt;memory_mb&gt; &lt;display_uri|-&gt;\n
/// target → source   OK\n  |  ERR &lt;reason&gt;\n
/// source → target   frames: 4-byte big-endian length + that many bytes of "memory"; a 0-length frame ends the stream
/// target → source   RUNNING\n (the VM now runs on the target)  |  ERR &lt;reason&gt;\n
/// </code>
/// Each simulated MiB travels as one real KiB, so a large VM moves in little real traffic while a broken
/// connection is still noticed the way a real one would be.
/// </summary>
internal static class SimulatedWire
{
    public const string Magic = "PRESENCE-SIM/1";
    public const int SimulatedBytesPerRealByte = 1024;
    public const int MaxFrame = 1 << 20;
    public const string Running = "RUNNING";
    public const string Ok = "OK";

    public static string Uri(string address, int port) => $"tcp:{address}:{port}";

    public static bool TryParseUri(string uri, out string host, out int port)
    {
        host = "";
        port = 0;
        if (!uri.StartsWith("tcp:", StringComparison.Ordinal))
        {
            return false;
        }

        var rest = uri[4..];
        var colon = rest.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            return false;
        }

        host = rest[..colon].Trim('[', ']');
        return host.Length > 0;
    }

    public static string Handshake(string vm, int memoryMb, string? displayUri) =>
        $"{Magic} {vm} {memoryMb.ToString(CultureInfo.InvariantCulture)} {displayUri ?? "-"}";

    public static bool TryParseHandshake(string line, out string vm, out int memoryMb, out string? displayUri)
    {
        vm = "";
        memoryMb = 0;
        displayUri = null;
        var parts = line.Split(' ');
        if (parts.Length != 4 || parts[0] != Magic
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out memoryMb))
        {
            return false;
        }

        vm = parts[1];
        displayUri = parts[3] == "-" ? null : parts[3];
        return true;
    }

    public static async Task WriteLineAsync(Stream stream, string line, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>Reads one line byte by byte, so none of the binary frames after it are swallowed; null at end of stream.</summary>
    public static async Task<string?> ReadLineAsync(Stream stream, CancellationToken cancellationToken, int maxLength = 4096)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0)
            {
                return null;
            }

            if (one[0] == (byte)'\n')
            {
                return Encoding.UTF8.GetString(bytes.ToArray());
            }

            if (bytes.Count >= maxLength)
            {
                throw new IOException($"line longer than {maxLength} bytes");
            }

            bytes.Add(one[0]);
        }
    }

    public static async Task WriteFrameAsync(Stream stream, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var header = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(header, payload.Length);
        await stream.WriteAsync(header, cancellationToken);
        if (!payload.IsEmpty)
        {
            await stream.WriteAsync(payload, cancellationToken);
        }
    }

    /// <summary>Reads one frame into <paramref name="buffer"/>; returns its length (0 ends the stream).</summary>
    public static async Task<int> ReadFrameAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var header = new byte[4];
        await stream.ReadExactlyAsync(header, cancellationToken);
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length is < 0 or > MaxFrame)
        {
            throw new IOException($"frame of {length} bytes is not part of the stream");
        }

        await stream.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken);
        return length;
    }
}
