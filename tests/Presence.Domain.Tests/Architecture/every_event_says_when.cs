using Presence.Domain.Hosts;

namespace Presence.Domain.Tests.Architecture;

/// <summary>
/// Every event a stream can hold carries its domain time: history, time travel and replay go by the house's clock,
/// never by when the store happened to write it.
/// </summary>
public class every_event_says_when
{
    public static TheoryData<Type> Events() => new(UserDecider.EventTypes.Concat(HostState.EventTypes));

    [Theory]
    [MemberData(nameof(Events))]
    public void it_has_an_instant_at(Type type)
    {
        Assert.True(typeof(IDomainEvent).IsAssignableFrom(type), $"{type.Name} does not implement IDomainEvent");
        Assert.Equal(typeof(Instant), type.GetProperty(nameof(IDomainEvent.At))!.PropertyType);
    }

    [Fact]
    public void every_input_record_is_a_user_event()
    {
        Assert.All(UserDecider.InputTypes, t => Assert.Contains(t, UserDecider.EventTypes));
    }

    [Fact]
    public void every_domain_event_type_belongs_to_a_stream()
    {
        var declared = typeof(UserDecider).Assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IDomainEvent).IsAssignableFrom(t));

        Assert.All(declared, t => Assert.True(UserDecider.EventTypes.Contains(t) || HostState.EventTypes.Contains(t), $"{t.Name} is in no stream's event list"));
    }
}
