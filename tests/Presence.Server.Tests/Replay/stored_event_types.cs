using System.Text.Json.Nodes;
using JasperFx.Events;
using Presence.Domain.Hosts;
using Presence.Domain.Users;
using Presence.Server.Replay;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Replay;

/// <summary>
/// The event store and the history files name an event by its type: a renamed event type, or one that left the
/// user's event family, would leave existing streams and recorded histories unreadable. Every recorded history must
/// still load, each of its type names must resolve to the event type it was written from, and Marten must give that
/// type the same name.
/// </summary>
public sealed class stored_event_types
{
    public static TheoryData<string> Histories() =>
        new(Directory.GetFiles(Repository.PathOf("eventstore", "histories"), "*.jsonl").Select(Path.GetFileName).OfType<string>().Order());

    [Theory]
    [MemberData(nameof(Histories))]
    public void every_event_of_a_recorded_history_resolves_to_its_type(string file)
    {
        var path = Repository.PathOf("eventstore", "histories", file);
        var names = File.ReadLines(path).Skip(1).Where(l => l.Length > 0)
            .Select(l => JsonNode.Parse(l)!["type"]!.GetValue<string>()).ToList();

        var history = HistoryFile.Read(path);

        Assert.NotEmpty(names);
        Assert.Equal(names, history.Events.Select(e => HistoryFile.TypeName(e.Data.GetType())));
        Assert.All(history.Events, e => Assert.Equal(HistoryFile.TypeName(e.Data.GetType()), e.Data.GetType().GetEventTypeName()));
        Assert.All(history.Events, e => Assert.Equal(history.Header.User, Assert.IsAssignableFrom<IUserEvent>(e.Data).User));
    }

    [Fact]
    public void every_event_type_keeps_the_name_the_store_knows_it_by()
    {
        Assert.All(UserDecider.EventTypes.Concat(HostState.EventTypes), type => Assert.Equal(type.GetEventTypeName(), HistoryFile.TypeName(type)));
        Assert.Equal(UserDecider.EventTypes.Count + HostState.EventTypes.Count,
            UserDecider.EventTypes.Concat(HostState.EventTypes).Select(t => t.GetEventTypeName()).Distinct().Count());
    }
}
