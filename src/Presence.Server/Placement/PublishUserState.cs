using System.Text.Json.Serialization;
using Marten;
using Presence.Contracts.State;
using Presence.Contracts.Wire;
using Presence.Domain.House;
using Presence.Domain.Users;
using Presence.Server.Mqtt;
using ContractMode = Presence.Contracts.State.SessionMode;

namespace Presence.Server.Placement;

/// <summary>Re-publish a user's retained state topic from the stored saga (never from the message itself).</summary>
public sealed record PublishUserState(string User) : IPublished
{
    [JsonIgnore] public string Lane => "state:" + User;
}

public static class PublishUserStateHandler
{
    public static async Task Handle(PublishUserState message, IQuerySession session, HousePolicy policy, MqttOutbound mqtt, CancellationToken ct)
    {
        var user = policy.User(message.User);
        if (user is null)
        {
            return; // the user left the house file since this was queued
        }

        // Read once the broker takes it: what waited out an outage publishes the state as it is then.
        await mqtt.WaitForBrokerAsync(ct);
        var saga = await session.LoadAsync<UserSaga>(message.User, ct) ?? UserSaga.Start(user.Name, user.Vm);
        await mqtt.PublishAsync(mqtt.Topics.UserState(user.Name), ContractJson.Serialize(ToPayload(saga, user)), retain: true, ct);
    }

    public static UserStatePayload ToPayload(UserSaga saga, UserSpec user) => new()
    {
        User = user.Name,
        SeatHost = saga.Seat,
        Vm = saga.Vm ?? user.Vm,
        VmHost = saga.VmHost,
        Mode = saga.Mode switch
        {
            Domain.Users.SessionMode.Moving => ContractMode.Moving,
            Domain.Users.SessionMode.Local => ContractMode.Local,
            Domain.Users.SessionMode.Held => ContractMode.Held,
            Domain.Users.SessionMode.Suspended => ContractMode.Suspended,
            _ => ContractMode.ThinClient,
        },
        Migration = saga.Migration is { } m
            ? new MigrationSummary(m.Id, m.Source, m.Target, m.Phase, m.Percent)
            : saga.Operation is { } o
                ? new MigrationSummary(o.Id, o.Kind == "suspend" ? o.Host : saga.Suspended?.From ?? o.Host, o.ResumeOn ?? o.Host, o.Kind, null)
                : null,
        LastDecision = saga.LastDecision is { } d ? new DecisionSummary(d.Id, d.Rule, d.Reason) : null,
        Since = saga.Since,
        Automation = System.Enum.Parse<Presence.Contracts.Requests.AutomationChoice>(UserDecider.AutomationOf(saga, user).ToString()),
    };
}
