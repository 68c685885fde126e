using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Presence.Server.Configuration;
using Presence.Server.Hosting;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Hosting;

/// <summary>
/// A house file is read through an index of its sections (<see cref="IndexedJsonSource"/>). With the stock JSON
/// provider, binding a 500-seat office whose people may sit anywhere (257,000 keys) took its server 68–187 s
/// before it even opened the database; through the index, 9 s from the start to /health, PostgreSQL's first start
/// included (docs/benchmarks.md). These tests hold that both house files go through it and that it reads what the
/// stock provider reads.
/// </summary>
public sealed class reading_a_big_house
{
    [Fact]
    public async Task the_default_house_and_another_given_with_config_are_read_through_the_index()
    {
        var file = await WriteAsync(Office(people: 3));

        foreach (var args in new[] { [], new[] { "--config", file } })
        {
            var sources = PresenceApp.CreateBuilder(args).Configuration.Sources.OfType<JsonConfigurationSource>().ToList();
            Assert.NotEmpty(sources);
            Assert.All(sources, s => Assert.IsType<IndexedJsonSource>(s));
        }
    }

    [Fact]
    public async Task an_office_where_anyone_may_sit_anywhere_reads_as_the_stock_provider_reads_it()
    {
        var file = await WriteAsync(Office(people: 40));
        var stock = new ConfigurationBuilder().AddJsonFile(file).Build();
        var indexed = Indexed(file);

        // Every section, at every depth, has the same children with the same values.
        Assert.Equal(Tree(stock), Tree(indexed));
        var policy = PresenceApp.ReadSettings(PresenceApp.CreateBuilder(["--config", file]).Configuration).Policy;
        Assert.Equal(40, policy.Users.Count);
        Assert.All(policy.Users, u => Assert.Equal(41, u.AllowedHosts.Count));
        Assert.Equal(["server", "seat-01", "seat-02"], policy.User("user-07")!.AllowedHosts.Take(3));
    }

    [Fact]
    public async Task a_value_set_after_the_file_was_read_is_among_its_sections_children()
    {
        var file = await WriteAsync(Office(people: 2));
        var indexed = Indexed(file);
        Assert.DoesNotContain("Extra", indexed.GetSection("House").GetChildren().Select(c => c.Key));

        indexed["House:Extra:Setting"] = "on";

        Assert.Contains("Extra", indexed.GetSection("House").GetChildren().Select(c => c.Key));
        Assert.Equal("on", indexed.GetSection("House:Extra").GetChildren().Single().Value);
    }

    [Fact]
    public async Task a_file_read_again_is_answered_from_what_it_says_now()
    {
        var file = await WriteAsync(Office(people: 2));
        var indexed = Indexed(file);
        Assert.Equal(2, indexed.GetSection("House:Users").GetChildren().Count());

        await File.WriteAllTextAsync(file, Office(people: 5));
        indexed.Reload();

        Assert.Equal(5, indexed.GetSection("House:Users").GetChildren().Count());
        Assert.Equal(Tree(new ConfigurationBuilder().AddJsonFile(file).Build()), Tree(indexed));
    }

    private static IConfigurationRoot Indexed(string file) =>
        new ConfigurationBuilder().Add(IndexedJsonSource.Of((JsonConfigurationSource)new ConfigurationBuilder().AddJsonFile(file).Sources[0])).Build();

    /// <summary>Every path with its value, in the order a walk through GetChildren meets them.</summary>
    private static List<string> Tree(IConfiguration configuration)
    {
        var lines = new List<string>();
        void Walk(IConfiguration section, string path)
        {
            foreach (var child in section.GetChildren())
            {
                lines.Add($"{path}/{child.Key}={child.Value}");
                Walk(child, path + "/" + child.Key);
            }
        }

        Walk(configuration, "");
        return lines;
    }

    /// <summary>An office of <paramref name="people"/> seats and a server, all allowed at every computer.</summary>
    private static string Office(int people)
    {
        var seats = Enumerable.Range(1, people).Select(i => $"seat-{i:00}").ToList();
        string[] computers = ["server", .. seats];
        return TestHouse.With(house =>
        {
            house["Hosts"] = new JsonArray([
                new JsonObject { ["Name"] = "server", ["Role"] = "Server", ["CanRunVms"] = true, ["LinkMbps"] = 10000 },
                .. seats.Select(s => (JsonNode)new JsonObject { ["Name"] = s, ["Role"] = "Desktop", ["CanRunVms"] = false, ["LinkMbps"] = 1000 }),
            ]);
            house["Users"] = new JsonArray([.. Enumerable.Range(1, people).Select(i => (JsonNode)new JsonObject
            {
                ["Name"] = $"user-{i:00}",
                ["Vm"] = $"user-{i:00}-vm",
                ["HomeHost"] = "server",
                ["AllowedHosts"] = new JsonArray([.. computers.Select(c => (JsonNode)JsonValue.Create(c)!)]),
                ["PreferredMode"] = "ThinClient",
            })]);
            house["Vms"] = new JsonArray([.. Enumerable.Range(1, people).Select(i => (JsonNode)new JsonObject
            {
                ["Name"] = $"user-{i:00}-vm", ["MemoryMb"] = 1024, ["Owner"] = $"user-{i:00}", ["DisplayUri"] = $"spice://server:{5900 + i}",
            })]);
        });
    }

    private static async Task<string> WriteAsync(string json)
    {
        var directory = PostgresCluster.NewScratchDirectory("big-house");
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "house.json");
        await File.WriteAllTextAsync(file, json);
        return file;
    }
}
