using System.Security.Cryptography;
using Marten;
using JasperFx;
using Microsoft.Extensions.Options;
using NodaTime;
using Presence.Contracts.Agents;
using Presence.Server.Configuration;
using Presence.Server.Hosting;

namespace Presence.Server.Signing;

/// <summary>
/// The house's signing key pair, a document of the house's data: made on the first start, the same for every
/// server node sharing the database. The private half never leaves the database and this process.
/// </summary>
public sealed class HouseSigningKey
{
    public const string HouseId = "house";

    public string Id { get; set; } = HouseId;

    /// <summary>PKCS#8, base64.</summary>
    public string PrivateKey { get; set; } = "";

    /// <summary>SubjectPublicKeyInfo, base64: what agents are given as <c>Agent:Trust:ServerKey</c>.</summary>
    public string PublicKey { get; set; } = "";

    public Instant CreatedAt { get; set; }
}

/// <summary>Loads (or on the first start makes) the house's key once per process; signs the commands that leave.</summary>
public sealed class HouseKeys(IDocumentStore store, IClock clock, IOptions<SigningOptions> options, IOptions<DatabaseOptions> database, ILogger<HouseKeys> logger)
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private ECDsa? key;
    private string? publicKey;

    /// <summary>Where the public key is written for agents on this machine (see <see cref="SigningOptions.PublicKeyFile"/>).</summary>
    public string PublicKeyFile => SigningOptions.EffectivePublicKeyFile(options.Value, database.Value);

    public async Task<string> PublicKeyAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        return publicKey!;
    }

    /// <summary>The MQTT user properties that prove <paramref name="payload"/> on <paramref name="topic"/> is the server's, as of now.</summary>
    public async Task<IReadOnlyList<KeyValuePair<string, string>>> SignAsync(string topic, byte[] payload, CancellationToken ct)
    {
        var signer = await LoadAsync(ct);
        return CommandSignature.Sign(signer, topic, clock.GetCurrentInstant(), payload);
    }

    /// <summary>Writes the public key where agents on this machine look for it; a failure is logged, not fatal (agents can be given the key).</summary>
    public async Task WritePublicKeyFileAsync(CancellationToken ct)
    {
        var text = await PublicKeyAsync(ct);
        var path = PublicKeyFile;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (!File.Exists(path) || (await File.ReadAllTextAsync(path, ct)).Trim() != text)
            {
                await File.WriteAllTextAsync(path, text + "\n", ct);
            }

            logger.LogInformation("The house's command-signing public key is in {Path} (agents on this computer read it; others need Agent:Trust:ServerKey, see `presence server-key`)", path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Cannot write the server's public key to {Path} ({Reason}); give agents Agent:Trust:ServerKey from `presence server-key`", path, e.Message);
        }
    }

    private async Task<ECDsa> LoadAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref key) is { } loaded)
        {
            return loaded;
        }

        await gate.WaitAsync(ct);
        try
        {
            if (key is not null)
            {
                return key;
            }

            var stored = await FindAsync(ct) ?? await CreateAsync(ct);
            var pair = ECDsa.Create();
            pair.ImportPkcs8PrivateKey(Convert.FromBase64String(stored.PrivateKey), out _);
            publicKey = stored.PublicKey;
            Volatile.Write(ref key, pair);
            return pair;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<HouseSigningKey?> FindAsync(CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<HouseSigningKey>(HouseSigningKey.HouseId, ct);
    }

    private async Task<HouseSigningKey> CreateAsync(CancellationToken ct)
    {
        using var pair = HouseKey.Create();
        var document = new HouseSigningKey
        {
            PrivateKey = Convert.ToBase64String(pair.ExportPkcs8PrivateKey()),
            PublicKey = HouseKey.ExportPublicKey(pair),
            CreatedAt = clock.GetCurrentInstant(),
        };
        try
        {
            await using var session = store.LightweightSession();
            // Insert, not Store: two nodes starting together must end up with one key, the first one written.
            session.Insert(document);
            await session.SaveChangesAsync(ct);
            logger.LogInformation("Made the house's command-signing key");
            return document;
        }
        catch (DocumentAlreadyExistsException)
        {
            return await FindAsync(ct) ?? throw new InvalidOperationException("the house's signing key vanished while it was being made");
        }
    }
}

/// <summary>Loads the key and writes the public half for local agents before any command can leave.</summary>
public sealed class HouseKeysOnStart(HouseKeys keys) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => keys.WritePublicKeyFileAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
