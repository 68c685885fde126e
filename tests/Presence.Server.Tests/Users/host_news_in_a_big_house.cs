using System.Text.Json.Nodes;
using Marten;
using Npgsql;
using NodaTime;
using Presence.Domain.Hosts;
using Presence.Domain.House;
using Presence.Domain.Seating;
using Presence.Domain.Users;
using Presence.Server.Tests.Infrastructure;
using Presence.Server.Users;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Users;

/// <summary>
/// A house of fifty computers and forty people, most of whom have nothing on the computer the news is about. News of
/// one host reaches exactly the people it concerns (HostNews), and finding them reads only their sagas: the server
/// asks PostgreSQL for the sagas involved with the host (an indexed column), never for every saga. The saga document
/// keeps a fingerprint per host instead of the whole house's facts.
/// </summary>
public sealed class host_news_in_a_big_house(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Hosts = 50;
    private const int People = 40;
    private const string Host = "pc-03";
    private static readonly Instant Seeded = Instant.FromUtc(2026, 12, 1, 8, 0);

    private readonly RecordedSql sql = new();
    private TestServer server = null!;

    /// <summary>Where each person's VM runs: alice's pair and carol's on pc-03, everyone else's on a computer of their own.</summary>
    private static string VmHostOf(int person) => person <= 3 ? Host : Pc(person + 5);

    private static string Pc(int i) => $"pc-{i:00}";

    private static string Person(int i) => $"p{i:00}";

    private static string Vm(int i) => $"vm-{i:00}";

    public async Task InitializeAsync()
    {
        server = await TestServer.StartAsync(houseJson: BigHouse(), services: s =>
        {
            s.ConfigureMarten(o => o.Logger(sql));
            TestServer.WithoutSignalWarmup(s);
        });

        // The agents' facts, as in a house that has been running a while: every computer online, each running the
        // VMs placed on it. Written as the agents' own events, so the host documents are what the server would keep.
        var house = new HouseSnapshot([.. Enumerable.Range(1, Hosts).Select(Facts)]);
        await using var session = server.Store.LightweightSession();
        for (var i = 1; i <= Hosts; i++)
        {
            var facts = house.Host(Pc(i));
            session.Events.Append(HostState.StreamId(Pc(i)),
                new AgentStatusReported(Pc(i), true, "test", "simulated", Seeded),
                new InventoryReported(Pc(i), 8, facts.MemoryMb, facts.MemoryFreeMb, facts.LinkMbps, false, null, facts.Vms, Seeded));
        }

        // Every person but p03 has a saga that has seen the house; p04 sits at pc-03 (its VM runs elsewhere). p03 has
        // no saga yet: only the agents say its VM runs on pc-03.
        for (var i = 1; i <= People; i++)
        {
            if (i == 3)
            {
                continue;
            }

            List<object> events =
            [
                new UserEnrolled(Person(i), Vm(i), VmHostOf(i), "seeded", Seeded),
                new HouseChanged(Person(i), house.Hosts, [], Seeded),
            ];
            if (i == 4)
            {
                events.Add(new SeatChanged(Person(i), Host, null, 1, ["seeded"], Seeded));
            }

            session.Events.StartStream<UserSaga>(Person(i), events);
        }

        await session.SaveChangesAsync();
    }

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task reaches_exactly_the_people_it_concerns_reading_only_their_sagas()
    {
        var versions = await VersionsAsync();
        Assert.Equal(People - 1, versions.Count);
        sql.Clear();

        await using (var homeAssistant = await MqttProbe.ConnectAsAsync(server.MqttPort, "ha-maintenance", "homeassistant"))
        {
            await homeAssistant.PublishAsync($"presence/hosts/{Host}/maintenance", """{"id":"m-on","state":"on","reason":"new disk"}""");
        }

        string[] concerned = [Person(1), Person(2), Person(3), Person(4)];
        foreach (var person in concerned)
        {
            await Eventually.TrueAsync(async () => (await NoticedAsync(person)).Contains(Host), $"{person} told of {Host}'s maintenance");
        }

        // Everyone concerned was decided for in the one transaction that stored the news: nobody else was touched.
        var after = await VersionsAsync();
        var touched = after.Where(v => !versions.TryGetValue(v.Key, out var before) || before != v.Value).Select(v => v.Key).Order().ToList();
        Assert.Equal(concerned, touched);

        // How the sagas were found: every read of saga documents was by the host's index or by a person's id.
        var sagaReads = sql.Commands.Where(c => c.Contains("mt_doc_usersaga", StringComparison.Ordinal) && c.TrimStart().StartsWith("select", StringComparison.OrdinalIgnoreCase)).ToList();
        output.WriteLine($"{sql.Commands.Count} SQL commands while the news was handled, {sagaReads.Count} of them read sagas:");
        foreach (var read in sagaReads.Distinct())
        {
            output.WriteLine("  " + read);
        }

        Assert.Contains(sagaReads, c => c.Contains("involves @>", StringComparison.Ordinal));
        Assert.All(sagaReads, c => Assert.True(
            c.Contains("involves @>", StringComparison.Ordinal) || c.Contains("id = ", StringComparison.Ordinal),
            $"a read of every saga: {c}"));
    }

    [Fact]
    public async Task the_index_answers_which_sagas_a_host_involves()
    {
        await using var session = server.Store.QuerySession();
        var involved = await SagaIndex.InvolvingAsync(session, Host, [], CancellationToken.None);
        Assert.Equal([Person(1), Person(2), Person(4)], involved.Select(s => s.Id).Order());

        var withP03 = await SagaIndex.InvolvingAsync(session, Host, [Person(3), Person(5)], CancellationToken.None);
        Assert.Equal([Person(1), Person(2), Person(4), Person(5)], withP03.Select(s => s.Id).Order());

        // With forty rows PostgreSQL would rather scan; told not to, it can answer from the GIN index alone.
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        var schema = server.Store.Options.DatabaseSchemaName;
        await using var plan = new NpgsqlCommand(
            $"set enable_seqscan = off; explain select data from {schema}.mt_doc_usersaga where (involves @> array['{Host}'] or involves = '{{}}')", connection);
        var lines = new List<string>();
        await using (var reader = await plan.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetString(0));
            }
        }

        output.WriteLine(string.Join("\n", lines));
        Assert.Contains(lines, l => l.Contains("Bitmap Index Scan", StringComparison.Ordinal) && l.Contains("involves", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("Seq Scan", StringComparison.Ordinal));
    }

    [Fact]
    public async Task a_saga_stored_before_the_index_existed_is_still_found()
    {
        // What the schema update leaves in a saga written before: the column filled from JSON that had no such list.
        await using (var connection = new NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var old = new NpgsqlCommand(
                $"update {server.Store.Options.DatabaseSchemaName}.mt_doc_usersaga set involves = '{{}}' where id = @id", connection);
            old.Parameters.AddWithValue("id", Person(1));
            Assert.Equal(1, await old.ExecuteNonQueryAsync());
        }

        await using var session = server.Store.QuerySession();
        var involved = await SagaIndex.InvolvingAsync(session, Host, [], CancellationToken.None);

        Assert.Equal([Person(1), Person(2), Person(4)], involved.Select(s => s.Id).Order());
    }

    [Fact]
    public async Task a_saga_document_keeps_a_fingerprint_per_host_not_the_whole_house()
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        var schema = server.Store.Options.DatabaseSchemaName;
        await using var size = new NpgsqlCommand($"select octet_length(data::text) from {schema}.mt_doc_usersaga where id = @id", connection);
        size.Parameters.AddWithValue("id", Person(1));
        var document = (int)(await size.ExecuteScalarAsync())!;

        // What the document embedded before, for the same house: every host's facts, in the same serializer.
        var house = new HouseSnapshot([.. Enumerable.Range(1, Hosts).Select(Facts)]);
        var snapshot = server.Store.Options.Serializer().ToJson(house).Length;
        await using var session = server.Store.QuerySession();
        var saga = await session.LoadAsync<UserSaga>(Person(1));
        var marks = server.Store.Options.Serializer().ToJson(saga!.HouseSeen).Length;
        output.WriteLine($"saga document of a {Hosts}-computer house: {document} bytes, of which {marks} what it keeps of the house; "
            + $"the whole-house snapshot it embedded before: {snapshot} bytes, so about {document - marks + snapshot} bytes then");

        Assert.True(document * 2 < snapshot, $"document {document} bytes, snapshot {snapshot} bytes");

        // What finding whom pc-03's news concerns reads now, against every saga as before; and the host documents
        // every decision still reads whole (one query).
        var involved = await SagaIndex.InvolvingAsync(session, Host, HostNewsRunningOn(), CancellationToken.None);
        var all = await session.Query<UserSaga>().ToListAsync();
        var bytes = (IEnumerable<UserSaga> sagas) => sagas.Sum(s => server.Store.Options.Serializer().ToJson(s).Length);
        var hosts = await session.Query<HostState>().ToListAsync();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        const int Reads = 20;
        for (var i = 0; i < Reads; i++)
        {
            await session.Query<HostState>().ToListAsync();
        }

        var perRead = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds / Reads;
        output.WriteLine($"news of {Host} reads {involved.Count} of {all.Count} sagas: {bytes(involved)} bytes of JSON instead of {bytes(all)}");
        output.WriteLine($"the house's {hosts.Count} host documents: {hosts.Sum(h => server.Store.Options.Serializer().ToJson(h).Length)} bytes of JSON, read in {perRead:0.00} ms");
    }

    private static string[] HostNewsRunningOn() => [Person(1), Person(2), Person(3)];

    private async Task<Dictionary<string, long>> VersionsAsync()
    {
        await using var session = server.Store.QuerySession();
        var versions = new Dictionary<string, long>();
        for (var i = 1; i <= People; i++)
        {
            if (await session.Events.FetchStreamStateAsync(Person(i)) is { } state)
            {
                versions[Person(i)] = state.Version;
            }
        }

        return versions;
    }

    private async Task<IReadOnlyList<string>> NoticedAsync(string person)
    {
        await using var session = server.Store.QuerySession();
        return [.. (await session.Events.FetchStreamAsync(person)).Select(e => e.Data).OfType<HostChangeNoticed>().Select(h => h.Host)];
    }

    private static HostFacts Facts(int i)
    {
        var vms = Enumerable.Range(1, People).Where(p => VmHostOf(p) == Pc(i))
            .Select(p => new VmFact(Vm(p), VmRunState.Running, 4096, $"spice://{Pc(i)}:59{p:00}")).ToList();
        return new HostFacts(Pc(i), true, 32768, 32768 - (4096 * vms.Count), 1000, false, null, vms);
    }

    private static string BigHouse()
    {
        var root = JsonNode.Parse(TestHouse.Json)!;
        var house = root["House"]!;
        house["Hosts"] = new JsonArray([.. Enumerable.Range(1, Hosts).Select(i => JsonNode.Parse(
            $$"""{ "Name": "{{Pc(i)}}", "Role": "Desktop", "CanRunVms": true, "LinkMbps": 1000 }"""))]);
        house["Users"] = new JsonArray([.. Enumerable.Range(1, People).Select(i => JsonNode.Parse(
            $$"""{ "Name": "{{Person(i)}}", "Vm": "{{Vm(i)}}", "HomeHost": "{{VmHostOf(i)}}", "AllowedHosts": [ "{{VmHostOf(i)}}", "{{Pc(i + 5)}}" ], "PreferredMode": "ThinClient" }"""))]);
        house["Vms"] = new JsonArray([.. Enumerable.Range(1, People).Select(i => JsonNode.Parse(
            $$"""{ "Name": "{{Vm(i)}}", "MemoryMb": 4096, "Owner": "{{Person(i)}}", "DisplayUri": "spice://{{VmHostOf(i)}}:59{{i:00}}" }"""))]);
        return root.ToJsonString();
    }
}
