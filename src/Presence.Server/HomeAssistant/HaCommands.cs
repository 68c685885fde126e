using Marten;
using NodaTime;
using Presence.Contracts.Requests;
using Presence.Contracts.Wire;
using Presence.Domain.House;
using Presence.Domain.Users;
using Presence.Server.Hosting;
using Presence.Server.Mqtt;
using Wolverine;
using static Presence.Server.HomeAssistant.Discovery;

namespace Presence.Server.HomeAssistant;

/// <summary>
/// Home Assistant's command payloads (a switch's ON/OFF, a button's PRESS, a select's option) made into the
/// contract's requests and handed to the same handlers the request topics reach (Users/RequestHandler), recorded as
/// asked by the controller `homeassistant`: the broker lets no one else publish these topics (PublishRules, the
/// mosquitto ACL). A command Presence cannot carry out is refused on presence/errors, and since no entity is
/// optimistic, HA keeps showing the state Presence has.
/// </summary>
public sealed class HaCommands(HaTopics t, HousePolicy policy, IServiceScopeFactory scopes, IDocumentStore store, Rejections rejections, IClock clock, ILogger<HaCommands> logger)
{
    private const string PressPayload = "PRESS";

    /// <summary>The filters of every command topic Presence declares (never retained).</summary>
    public IReadOnlyList<string> Subscriptions =>
    [
        $"{t.Contract.Root}/ha/person/+/+/set",
        $"{t.Contract.Root}/ha/person/+/+/press",
        $"{t.Contract.Root}/ha/computer/+/+/set",
    ];

    public bool IsCommand(string topic) => HaTopics.IsCommand(t.Contract.Root, topic);

    /// <summary>Carries out one command; true when it is done with (taken or refused), false to have it delivered again.</summary>
    public async Task<bool> HandleAsync(string topic, byte[] payload, CancellationToken ct)
    {
        var text = System.Text.Encoding.UTF8.GetString(payload);
        var parts = topic[(t.Contract.Root.Length + "/ha/".Length)..].Split('/');
        try
        {
            object message = parts switch
            {
                ["person", var user, var key, var verb] => await PersonAsync(topic, user, key, verb, text, ct),
                ["computer", var host, ComputerKeys.Maintenance, "set"] => Maintenance(topic, host, text),
                _ => throw new MessageRejected($"'{topic}' is no Home Assistant command of Presence's"),
            };
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(message, ct);
        }
        catch (MessageRejected e)
        {
            await rejections.RejectAsync(topic, e.Message, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // As the bridge does with what it cannot store: a press is not pressed again by HA, so whoever pressed it
            // learns on presence/errors that it was not carried out, and the command is not left unacknowledged.
            // (Conflicts and an absent database never come here: the store retries hold them, StoreRetries.)
            logger.LogError(e, "Carrying out the Home Assistant command {Topic} failed", topic);
            await rejections.RejectAsync(topic, $"internal error while carrying out this command: {e.Message}", ct);
        }

        return true;
    }

    private async Task<UserRequestArrived> PersonAsync(string topic, string user, string key, string verb, string payload, CancellationToken ct)
    {
        var spec = policy.User(user) ?? throw new MessageRejected($"'{user}' is not a user of the house");
        var request = (key, verb) switch
        {
            (PersonKeys.Hold, "set") => payload switch
            {
                "ON" => Asked(RequestAction.Hold),
                "OFF" => Asked(RequestAction.Release),
                _ => throw new MessageRejected($"hold takes ON or OFF, not '{Shown(payload)}'"),
            },
            (PersonKeys.FollowMe, "press") => Asked(Pressed(key, payload, RequestAction.Follow)),
            (PersonKeys.SendHome, "press") => Asked(Pressed(key, payload, RequestAction.Home)),
            (PersonKeys.BringTo, "set") => spec.AllowedHosts.Contains(payload)
                ? Asked(RequestAction.Move) with { Target = payload }
                : throw new MessageRejected($"'{Shown(payload)}' is not among {user}'s allowed hosts ({string.Join(", ", spec.AllowedHosts)})"),
            (PersonKeys.Approve or PersonKeys.Decline, "press") =>
                Asked(Pressed(key, payload, key == PersonKeys.Approve ? RequestAction.Approve : RequestAction.Decline))
                    with { DecisionId = await ProposalAsync(user, ct) },
            (PersonKeys.Automation, "set") => Asked(RequestAction.Automation) with
            {
                Level = System.Enum.GetValues<AutomationChoice>().Where(l => ContractJson.WireName(l) == payload).Select(l => (AutomationChoice?)l).FirstOrDefault()
                    ?? throw new MessageRejected($"automation takes one of {string.Join(", ", AutomationLevels)}, not '{Shown(payload)}'"),
            },
            _ => throw new MessageRejected($"'{topic}' is no Home Assistant command of Presence's"),
        };
        return UserRequestArrived.Asked(t.Contract.Root, topic, request, clock.GetCurrentInstant(), HaTopics.Controller);

        UserRequest Asked(RequestAction action) => new() { User = user, Action = action, Id = NewId() };
    }

    private MaintenanceArrived Maintenance(string topic, string host, string payload)
    {
        if (policy.Host(host) is null)
        {
            throw new MessageRejected($"'{host}' is not a host of the house");
        }

        var state = payload switch
        {
            "ON" => MaintenanceRequest.Switch.On,
            "OFF" => MaintenanceRequest.Switch.Off,
            _ => throw new MessageRejected($"maintenance takes ON or OFF, not '{Shown(payload)}'"),
        };
        return MaintenanceArrived.Asked(t.Contract.Root, topic,
            new MaintenanceRequest { Host = host, State = state, Reason = "switched in Home Assistant", Id = NewId() }, clock.GetCurrentInstant());
    }

    /// <summary>The decision an approve or decline answers: the one waiting now, so HA's button needs no id.</summary>
    private async Task<string> ProposalAsync(string user, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return (await session.LoadAsync<UserSaga>(user, ct))?.Proposal?.DecisionId
               ?? throw new MessageRejected($"no proposal waits for {user}'s approval");
    }

    private static RequestAction Pressed(string key, string payload, RequestAction action) =>
        payload == PressPayload ? action : throw new MessageRejected($"{key} takes {PressPayload} (HA's button payload_press), not '{Shown(payload)}'");

    /// <summary>Each command is its own request: HA sends no id, and pressing twice means twice.</summary>
    private static string NewId() => "ha-" + Guid.NewGuid().ToString("N")[..16];

    private static string Shown(string payload) => payload.Length <= 64 ? payload : payload[..64] + "…";
}
