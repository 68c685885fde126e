using NodaTime;
using NodaTime.Serialization.SystemTextJson;
using Presence.Domain.Audit;
using Presence.Domain.Users;
using Presence.Server.Replay;
using Presence.Server.Tests.Infrastructure;

namespace Presence.Server.Tests.Replay;

/// <summary>
/// A history file holds a user's events with their audit metadata, one per line, after a header with the house they
/// were decided in; reading it back gives the same history, and a file that is wrong says where and how.
/// </summary>
public sealed class history_files
{
    private static readonly string Recorded = Repository.PathOf("eventstore", "histories", "quiet-hours-alice.jsonl");

    [Fact]
    public void a_history_reads_back_as_it_was_written()
    {
        var history = HistoryFile.Read(Recorded);
        var written = new StringWriter { NewLine = "\n" };

        HistoryFile.Write(written, history.Header.User, history.Header.ExportedAt, null, history.Events);
        var again = HistoryFile.Read(new StringReader(written.ToString()), "rewritten");

        Assert.Equal(history.Events.Count, again.Events.Count);
        Assert.All(history.Events.Zip(again.Events), pair =>
        {
            Assert.Equal(pair.First.Version, pair.Second.Version);
            Assert.Equal(pair.First.CorrelationId, pair.Second.CorrelationId);
            Assert.Equal(pair.First.CausationId, pair.Second.CausationId);
            Assert.Equal(pair.First.Headers, pair.Second.Headers);
            Assert.Equal(Text(pair.First.Data), Text(pair.Second.Data));
        });
        Assert.Equal(File.ReadAllLines(Recorded).Skip(1), written.ToString().TrimEnd('\n').Split('\n').Skip(1));
    }

    [Fact]
    public void the_header_carries_the_house_and_the_policy_version()
    {
        var header = HistoryFile.Read(Recorded).Header;

        Assert.Equal("alice", header.User);
        Assert.Equal(HistoryFile.Format, header.Format);
        Assert.StartsWith("p-", header.PolicyVersion);
        Assert.Equal("Europe/Berlin", header.House!["TimeZone"]!.GetValue<string>());
    }

    [Fact]
    public void every_event_has_its_domain_time_and_audit_metadata()
    {
        var history = HistoryFile.Read(Recorded);

        Assert.All(history.Events, e =>
        {
            Assert.NotNull(e.CorrelationId);
            Assert.NotNull(e.CausationId);
            Assert.NotNull(e.Header("policy_version"));
            Assert.NotNull(e.Header("node"));
            Assert.True(e.At > Instant.FromUtc(2026, 1, 1, 0, 0));
        });
        Assert.Contains(history.Events, e => e.Data is AgentReported);
    }

    [Theory]
    [InlineData("", "empty, not a Presence history")]
    [InlineData("{\"format\":\"something-else\",\"user\":\"alice\"}", "f:1: not a Presence history")]
    [InlineData("{\"format\":\"presence-history/1\"}", "f:1: the header names no user")]
    [InlineData("{\"format\":\"presence-history/1\",\"user\":\"alice\"}\n{\"version\":1,\"type\":\"meteor_struck\",\"data\":{}}", "f:2: unknown event type 'meteor_struck'")]
    [InlineData("{\"format\":\"presence-history/1\",\"user\":\"alice\"}\n{\"version\":2,\"type\":\"hold_changed\",\"data\":{\"user\":\"alice\",\"held\":true,\"evidence_id\":\"e\",\"at\":\"2026-11-25T10:00:00Z\"}}", "f:2: version 2 where 1 was expected")]
    [InlineData("{\"format\":\"presence-history/1\",\"user\":\"alice\"}\n{\"version\":1,\"type\":\"hold_changed\",\"data\":{\"user\":\"bob\",\"held\":true,\"evidence_id\":\"e\",\"at\":\"2026-11-25T10:00:00Z\"}}", "f:2: a hold_changed of 'bob' in the history of 'alice'")]
    [InlineData("{\"format\":\"presence-history/1\",\"user\":\"alice\"}\n{\"version\":1,", "f:2: not valid JSON")]
    public void a_file_that_is_wrong_names_the_line_and_what_is_wrong(string content, string expected)
    {
        var error = Assert.Throws<HistoryFormatException>(() => HistoryFile.Read(new StringReader(content), "f"));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void a_missing_file_is_named()
    {
        var error = Assert.Throws<HistoryFormatException>(() => HistoryFile.Read("/nonexistent/alice.jsonl"));

        Assert.Contains("'/nonexistent/alice.jsonl' does not exist", error.Message);
    }

    private static string Text(IDomainEvent e) => System.Text.Json.JsonSerializer.Serialize(e, e.GetType(),
        new System.Text.Json.JsonSerializerOptions().ConfigureForNodaTime(DateTimeZoneProviders.Tzdb));
}
