using System.Text.Json;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using Presence.Domain.Signals;
using Presence.Server.Identities;
using Presence.Server.Mqtt;
using Presence.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Presence.Server.Tests.Drills;

/// <summary>
/// Drill (issue 10 §3): every identity of <see cref="SpoofingMatrix"/> × every topic of CONTRACT.md, on the embedded
/// broker and on a real mosquitto with a password file and the shipped ACL. What §5 refuses is refused by the broker
/// (connection refused, or PUBACK NotAuthorized; the embedded broker also says why on presence/errors), nothing of it
/// is stored, no agent sees a forged command; what §5 allows gets through. The same for subscriptions.
/// </summary>
[Trait("Category", "Drill")]
public sealed class spoofing_matrix(ITestOutputHelper output)
{
    [Fact]
    public async Task on_the_embedded_broker()
    {
        var secrets = SpoofingMatrix.Hosts.Append("homeassistant").Append(SpoofingMatrix.Revoked).ToDictionary(n => n, _ => SecretHash.NewSecret());
        await using var server = await TestServer.StartAsync(settings:
            ["--Mqtt:Controllers:0=homeassistant", "--Mqtt:Controllers:1=presence-cli", $"--Mqtt:Controllers:2={SpoofingMatrix.Revoked}"]);
        await using (var session = server.Store.LightweightSession())
        {
            foreach (var (name, secret) in secrets)
            {
                var role = SpoofingMatrix.Hosts.Contains(name) ? IdentityRole.Host : IdentityRole.Controller;
                session.Store(Enrolment.Of(name, role, secret, NodaTime.SystemClock.Instance.GetCurrentInstant()));
            }

            await session.SaveChangesAsync();
        }

        // Each identity proves its secret once (remembered), then the panel is revoked and its old secret stops working.
        foreach (var (name, secret) in secrets)
        {
            await Eventually.TrueAsync(() => MqttProbe.AdmitsAsync(server.MqttPort, name, secret), $"the broker accepting {name}'s secret");
        }

        await using (var session = server.Store.LightweightSession())
        {
            session.Delete<Enrolment>(SpoofingMatrix.Revoked);
            await session.SaveChangesAsync();
        }

        await Eventually.TrueAsync(async () => !await MqttProbe.AdmitsAsync(server.MqttPort, SpoofingMatrix.Revoked, secrets[SpoofingMatrix.Revoked]), "the revoked secret refused");

        var serverSecret = server.Services.GetRequiredService<ServerSecret>();
        await RunAsync(new Rig(BrokerUnderTest.Embedded, server, server.MqttPort,
            c => c.Password switch
            {
                Login.Own => secrets[c.User!],
                Login.Revoked => secrets[SpoofingMatrix.Revoked],
                Login.Wrong => SecretHash.NewSecret(),
                _ => null,
            },
            (serverSecret.UserName, serverSecret.Password),
            ("presence-cli", null)));
    }

    [Fact]
    public async Task at_mosquitto_with_the_shipped_acl()
    {
        await using var broker = await ExternalBroker.StartAsync();
        await using var server = await TestServer.StartAsync(broker, await PostgresCluster.NewDatabaseAsync("spoof"), "spoof");
        await RunAsync(new Rig(BrokerUnderTest.Mosquitto, server, broker.Port,
            c => c.Password switch
            {
                Login.Own => broker.PasswordOf(c.User!),
                Login.Wrong or Login.Revoked => SecretHash.NewSecret(),
                _ => null,
            },
            broker.ServerLogin,
            ("presence-cli", broker.PasswordOf("presence-cli"))));
    }

    private sealed record Rig(
        BrokerUnderTest Kind,
        TestServer Server,
        int Port,
        Func<Caller, string?> PasswordOf,
        (string User, string Password) ServerLogin,
        (string User, string? Password) Watcher);

    private Task<MqttProbe> ConnectAsync(Rig rig, Caller caller, string clientId, params string[] subscriptions) =>
        MqttProbe.ConnectWithAsync(rig.Port, clientId, caller.User, rig.PasswordOf(caller), subscriptions);

    private static string WhoText(Caller caller) => caller.IsHost ? $"host '{caller.User}'" : $"controller '{caller.User}'";

    private async Task RunAsync(Rig rig)
    {
        await using var watcher = await MqttProbe.ConnectWithAsync(rig.Port, "spoof-watcher", rig.Watcher.User, rig.Watcher.Password, "presence/errors");
        var agents = new List<MqttProbe>();
        foreach (var host in SpoofingMatrix.Hosts)
        {
            var caller = SpoofingMatrix.Callers.Single(c => c.User == host && c.Admitted);
            agents.Add(await ConnectAsync(rig, caller, $"agent-{host}", $"presence/agents/{host}/commands"));
        }

        var eventsBefore = await rig.Server.EventCountAsync();
        var failures = new List<string>();
        int pairs = 0, refusedAtConnect = 0, refusedAtPublish = 0, allowed = 0, n = 0;
        var expectedErrors = new List<(string Topic, string Who)>();
        var toAllow = new List<(Caller Caller, MqttProbe Client, Target Target)>();
        var clients = new List<MqttProbe>();
        try
        {
            foreach (var caller in SpoofingMatrix.Callers)
            {
                var targets = SpoofingMatrix.Targets("unused");
                pairs += targets.Count;
                MqttProbe client;
                try
                {
                    client = await ConnectAsync(rig, caller, caller.ClientId);
                }
                catch (MqttRefusedException refused)
                {
                    if (caller.Admitted)
                    {
                        failures.Add($"{caller}: refused at connect ({refused.Code}) but §5 lets it in");
                    }

                    refusedAtConnect += targets.Count;
                    continue;
                }

                clients.Add(client);
                if (!caller.Admitted)
                {
                    failures.Add($"{caller}: connected, but it proved no identity");
                    continue;
                }

                foreach (var target in SpoofingMatrix.Targets($"spoof-{n++}"))
                {
                    if (SpoofingMatrix.MayPublish(caller, target.Topic))
                    {
                        toAllow.Add((caller, client, SpoofingMatrix.Targets($"allowed-{n}").Single(t => t.Topic == target.Topic)));
                        continue;
                    }

                    var result = await client.PublishAsync(target.Topic, target.Payload);
                    if (result.ReasonCode != MqttClientPublishReasonCode.NotAuthorized)
                    {
                        failures.Add($"{caller} → {target.Topic}: {result.ReasonCode}, expected NotAuthorized");
                    }
                    else
                    {
                        refusedAtPublish++;
                    }

                    expectedErrors.Add((target.Topic, WhoText(caller)));
                }
            }

            if (rig.Kind == BrokerUnderTest.Embedded)
            {
                // The embedded broker says why on presence/errors, naming the topic and who may not publish there.
                foreach (var (topic, who) in expectedErrors)
                {
                    await watcher.WaitForAsync(m => m.Json.GetProperty("topic").GetString() == topic
                        && m.Json.GetProperty("error").GetString()!.StartsWith($"{who} may not publish to {topic}", StringComparison.Ordinal), what: $"the refusal of {who} on {topic}");
                }
            }

            // An honest signal after the forgeries: once it is stored, anything of theirs would be too.
            var laptop = SpoofingMatrix.Callers.Single(c => c is { User: "laptop", Admitted: true });
            await using (var honest = await ConnectAsync(rig, laptop, "spoof-honest"))
            {
                await honest.PublishAsync("presence/hosts/laptop/signals/idle", """{"id":"honest-drill","user":"alice","idle_seconds":1}""");
            }

            await Eventually.TrueAsync(async () => (await SignalIdsAsync(rig.Server)).Contains("honest-drill"), "the honest signal stored");
            var eventsAfter = await rig.Server.EventCountAsync();
            var forgedStored = await StoredContainingAsync(rig.Server, "\"spoof-");
            var forgedCommands = agents.SelectMany(a => a.All).Count(m => m.Payload.Contains("spoof-", StringComparison.Ordinal));
            Assert.Equal(0, forgedStored);
            Assert.Equal(0, forgedCommands);

            foreach (var (caller, client, target) in toAllow)
            {
                var result = await client.PublishAsync(target.Topic, target.Payload);
                if (result.IsSuccess)
                {
                    allowed++;
                }
                else
                {
                    failures.Add($"{caller} → {target.Topic}: {result.ReasonCode} {result.ReasonString}, but §5 allows it");
                }
            }

            var (subscriptionPairs, subscriptionsRefused, subscriptionsAllowed) = await SubscriptionsAsync(rig, failures);
            output.WriteLine($"{rig.Kind}: publish matrix {SpoofingMatrix.Callers.Count} identities × {SpoofingMatrix.Targets("x").Count} topics = {pairs} pairs: " +
                             $"{allowed} allowed, {refusedAtConnect} refused at connect, {refusedAtPublish} refused at publish (NotAuthorized" +
                             $"{(rig.Kind == BrokerUnderTest.Embedded ? $", {expectedErrors.Count} reasons on presence/errors" : "")}); " +
                             $"events {eventsBefore} before, {eventsAfter} after the honest signal, {forgedStored} forged stored, {forgedCommands} forged commands at agents");
            output.WriteLine($"{rig.Kind}: subscription matrix {subscriptionPairs} pairs: {subscriptionsAllowed} allowed, {subscriptionsRefused} refused");
            Assert.True(failures.Count == 0, string.Join("\n", failures));
            Assert.Equal(pairs, allowed + refusedAtConnect + refusedAtPublish);
        }
        finally
        {
            foreach (var client in clients.Concat(agents))
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Each admitted identity subscribes to each filter on a client of its own, with a sentinel it may read. The server
    /// publishes a probe on a topic each filter covers, then the sentinels: a client that has its sentinel but not its
    /// probe was refused, whatever its SUBACK said (mosquitto may grant a filter and deliver nothing from it).
    /// </summary>
    private async Task<(int Pairs, int Refused, int Allowed)> SubscriptionsAsync(Rig rig, List<string> failures)
    {
        var probe = $"probe-{Guid.NewGuid():N}";
        var sentinel = $"sentinel-{Guid.NewGuid():N}";
        var subscribers = new List<(Caller Caller, string Filter, string Topic, MqttProbe Client)>();
        int pairs = 0, refused = 0, allowed = 0;
        try
        {
            foreach (var caller in SpoofingMatrix.Callers)
            {
                var filters = SpoofingMatrix.Subscriptions(caller);
                pairs += filters.Count;
                if (!caller.Admitted)
                {
                    refused += filters.Count; // refused at connect, shown by the publish matrix
                    continue;
                }

                var own = caller.IsHost ? $"presence/agents/{caller.User}/commands" : "presence/errors";
                for (var i = 0; i < filters.Count; i++)
                {
                    subscribers.Add((caller, filters[i].Filter, filters[i].Probe, await ConnectAsync(rig, caller, $"sub-{caller.User}-{i}", filters[i].Filter, own)));
                }
            }

            await using var server = await MqttProbe.ConnectWithAsync(rig.Port, "spoof-server-probe", rig.ServerLogin.User, rig.ServerLogin.Password);
            foreach (var topic in subscribers.Select(s => s.Topic).Distinct())
            {
                await server.PublishAsync(topic, ProbePayload(topic, probe));
            }

            foreach (var topic in SpoofingMatrix.Hosts.Select(h => $"presence/agents/{h}/commands").Append("presence/errors"))
            {
                await server.PublishAsync(topic, ProbePayload(topic, sentinel));
            }

            foreach (var (caller, filter, topic, client) in subscribers)
            {
                await client.WaitForAsync(m => m.Payload.Contains(sentinel, StringComparison.Ordinal), what: $"{caller}'s sentinel");
                var delivered = client.Granted[filter] <= MqttClientSubscribeResultCode.GrantedQoS2
                    && client.All.Any(m => m.Topic == topic && m.Payload.Contains(probe, StringComparison.Ordinal));
                var expected = SpoofingMatrix.MaySubscribe(caller, filter, rig.Kind);
                if (delivered != expected)
                {
                    failures.Add($"{caller} subscribing {filter}: {(delivered ? "delivered" : $"not delivered ({client.Granted[filter]})")}, expected {(expected ? "allowed" : "refused")}");
                }

                if (delivered)
                {
                    allowed++;
                }
                else
                {
                    refused++;
                }
            }
        }
        finally
        {
            foreach (var s in subscribers)
            {
                await s.Client.DisposeAsync();
            }
        }

        return (pairs, refused, allowed);
    }

    private static string ProbePayload(string topic, string marker) => topic.EndsWith("/status", StringComparison.Ordinal)
        ? $$"""{"state":"online","agent_version":"{{marker}}","hypervisor":"simulated"}"""
        : $$"""{"note":"{{marker}}","command_id":"{{Guid.NewGuid()}}"}""";

    private static async Task<IReadOnlyList<string>> SignalIdsAsync(TestServer server)
    {
        await using var session = server.Store.QuerySession();
        return (await session.Events.FetchStreamAsync("alice")).Select(e => e.Data).OfType<SignalRecorded>().Select(s => s.Evidence.Id).ToList();
    }

    private static async Task<int> StoredContainingAsync(TestServer server, string text)
    {
        await using var session = server.Store.QuerySession();
        var all = await session.Events.QueryAllRawEvents().ToListAsync();
        return all.Count(e => JsonSerializer.Serialize(e.Data, e.Data.GetType()).Contains(text, StringComparison.Ordinal));
    }
}
