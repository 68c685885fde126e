using System.Security.Cryptography;
using System.Text;

namespace Presence.Domain.Tests.Users;

/// <summary>Ids come from the input's seed, so Decide stays pure and a replay hands out the same ids.</summary>
public class ids_from_a_seed
{
    private static readonly Guid SeedA = Guid.Parse("0b8f2a58-5d0e-4c4c-9a43-7d1f3f6a0001");
    private static readonly Guid SeedB = Guid.Parse("0b8f2a58-5d0e-4c4c-9a43-7d1f3f6a0002");

    [Fact]
    public void the_same_seed_gives_the_same_ids()
    {
        var (a, b) = (new Ids(SeedA), new Ids(SeedA));

        Assert.Equal(a.Decision(), b.Decision());
        Assert.Equal(a.Migration(), b.Migration());
        Assert.Equal(a.Command("prepare"), b.Command("prepare"));
        Assert.Equal(a.Derive("anything"), b.Derive("anything"));
    }

    [Fact]
    public void different_seeds_give_different_ids()
    {
        var (a, b) = (new Ids(SeedA), new Ids(SeedB));

        Assert.NotEqual(a.Decision(), b.Decision());
        Assert.NotEqual(a.Migration(), b.Migration());
        Assert.NotEqual(a.Command("prepare"), b.Command("prepare"));
    }

    [Fact]
    public void one_seed_gives_a_different_id_per_label()
    {
        var ids = new Ids(SeedA);
        string[] all = [ids.Decision(), ids.Migration(), ids.Command("prepare"), ids.Command("migrate"), ids.Command("abort"), ids.Command("attach")];

        Assert.Equal(all.Length, all.Distinct().Count());
    }

    [Fact]
    public void ids_have_their_documented_shapes()
    {
        var ids = new Ids(SeedA);

        Assert.Matches("^d-[0-9a-f]{12}$", ids.Decision());
        Assert.Matches("^m-[0-9a-f]{12}$", ids.Migration());
        var command = Guid.Parse(ids.Command("prepare"));
        Assert.Equal(3, command.Version);
        Assert.Equal(ids.Derive("command/prepare"), command);
    }

    [Fact]
    public void many_seeds_never_collide()
    {
        var seeds = Enumerable.Range(0, 5000).Select(i => new Ids(new Guid(i, 0, 0, new byte[8]))).ToList();

        Assert.Equal(seeds.Count, seeds.Select(i => i.Decision()).Distinct().Count());
        Assert.Equal(seeds.Count, seeds.Select(i => i.Command("prepare")).Distinct().Count());
    }

    /// <summary>
    /// Recorded histories hold ids derived with the platform's MD5; the decider now hashes in managed code (Users/Md5.cs),
    /// so for labels of every length around the block boundaries (55, 56, 64 bytes with the seed) and beyond, in
    /// ASCII and not, the id must be the one the platform's hash gives.
    /// </summary>
    [Fact]
    public void derived_ids_are_the_name_based_uuids_of_the_platforms_md5()
    {
        var random = new Random(11);
        var alphabet = "abcdefghijklmnopqrstuvwxyz0123456789/-_:@.ÄéØ漢🙂";
        for (var length = 0; length < 300; length++)
        {
            var seed = new Guid(Enumerable.Range(0, 16).Select(_ => (byte)random.Next(256)).ToArray());
            var label = new string(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length - 2)]).ToArray())
                        + (length % 7 == 0 ? "🙂" : "");

            Assert.Equal(PlatformDerived(seed, label), new Ids(seed).Derive(label));
        }

        Assert.Equal(PlatformDerived(SeedA, "decision"), new Ids(SeedA).Derive("decision"));
        Assert.Equal("d-" + PlatformDerived(SeedA, "decision").ToString("N")[..12], new Ids(SeedA).Decision());
    }

    private static Guid PlatformDerived(Guid seed, string label)
    {
        var bytes = MD5.HashData(Encoding.UTF8.GetBytes(seed.ToString("N") + "/" + label));
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x30);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    [Fact]
    public void the_decider_uses_the_inputs_seed_for_its_ids()
    {
        var first = Scenario.AliceOnTheBasementServer().When(Alice.LogsInAt(TheHouse.Imac));
        var again = Scenario.AliceOnTheBasementServer().When(Alice.LogsInAt(TheHouse.Imac));
        var seed = new Ids(new Guid(1, 0, 0, new byte[8]));

        Assert.Equal(seed.Decision(), first.The<PlacementDecided>().DecisionId);
        Assert.Equal(seed.Migration(), first.The<IncomingRequested>().MigrationId);
        Assert.Equal(seed.Command("prepare"), first.The<IncomingRequested>().CommandId);
        Assert.Equal(EventJson.Of(first.Events), EventJson.Of(again.Events));
    }
}
