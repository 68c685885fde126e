namespace Presence.Contracts.Tests.Wire;

/// <summary>CONTRACT.md topics under a configurable root, and the `{host}`/`{user}` name pattern.</summary>
public class parsing_topics
{
    private static readonly Topics Default = new();

    private static ParsedTopic Parse(string topic, Topics? topics = null)
    {
        var parsed = (topics ?? Default).Parse(topic, out var error);
        Assert.Null(error);
        return Assert.IsType<ParsedTopic>(parsed);
    }

    private static string Rejection(string topic, Topics? topics = null)
    {
        var parsed = (topics ?? Default).Parse(topic, out var error);
        Assert.Null(parsed);
        return Assert.IsType<string>(error);
    }

    public static TheoryData<string, ParsedTopic> ContractTopics => new()
    {
        { "presence/hosts/imac/signals/session", new ParsedTopic(TopicKind.Signal, Host: "imac", SignalKind: "session") },
        { "presence/hosts/imac/signals/lid", new ParsedTopic(TopicKind.Signal, Host: "imac", SignalKind: "lid") },
        { "presence/hosts/imac/signals/wifi", new ParsedTopic(TopicKind.Signal, Host: "imac", SignalKind: "wifi") },
        { "presence/hosts/imac/signals/idle", new ParsedTopic(TopicKind.Signal, Host: "imac", SignalKind: "idle") },
        { "presence/hosts/imac/signals/power", new ParsedTopic(TopicKind.Signal, Host: "imac", SignalKind: "power") },
        { "presence/hosts/basement/maintenance", new ParsedTopic(TopicKind.Maintenance, Host: "basement") },
        { "presence/users/alice/requests", new ParsedTopic(TopicKind.UserRequest, User: "alice") },
        { "presence/users/alice/state", new ParsedTopic(TopicKind.UserState, User: "alice") },
        { "presence/agents/basement/status", new ParsedTopic(TopicKind.AgentStatus, Host: "basement") },
        { "presence/agents/basement/inventory", new ParsedTopic(TopicKind.AgentInventory, Host: "basement") },
        { "presence/agents/basement/events", new ParsedTopic(TopicKind.AgentEvents, Host: "basement") },
        { "presence/agents/basement/commands", new ParsedTopic(TopicKind.AgentCommands, Host: "basement") },
        { "presence/errors", new ParsedTopic(TopicKind.Errors) },
    };

    [Theory]
    [MemberData(nameof(ContractTopics))]
    public void every_contract_topic_parses_to_its_kind_host_and_user(string topic, ParsedTopic expected)
    {
        Assert.Equal(expected, Parse(topic));
    }

    [Fact]
    public void the_builders_write_the_contract_topics()
    {
        Assert.Equal("presence/hosts/imac/signals/lid", Default.Signal("imac", "lid"));
        Assert.Equal("presence/hosts/basement/maintenance", Default.Maintenance("basement"));
        Assert.Equal("presence/users/alice/requests", Default.UserRequests("alice"));
        Assert.Equal("presence/users/alice/state", Default.UserState("alice"));
        Assert.Equal("presence/agents/basement/status", Default.AgentStatus("basement"));
        Assert.Equal("presence/agents/basement/inventory", Default.AgentInventory("basement"));
        Assert.Equal("presence/agents/basement/events", Default.AgentEvents("basement"));
        Assert.Equal("presence/agents/basement/commands", Default.AgentCommands("basement"));
        Assert.Equal("presence/errors", Default.Errors);
    }

    [Fact]
    public void built_topics_parse_back_to_what_built_them()
    {
        Assert.Equal(new ParsedTopic(TopicKind.Signal, "imac", SignalKind: "idle"), Parse(Default.Signal("imac", "idle")));
        Assert.Equal(new ParsedTopic(TopicKind.Maintenance, "imac"), Parse(Default.Maintenance("imac")));
        Assert.Equal(new ParsedTopic(TopicKind.UserRequest, User: "bob"), Parse(Default.UserRequests("bob")));
        Assert.Equal(new ParsedTopic(TopicKind.UserState, User: "bob"), Parse(Default.UserState("bob")));
        Assert.Equal(new ParsedTopic(TopicKind.AgentStatus, "nas"), Parse(Default.AgentStatus("nas")));
        Assert.Equal(new ParsedTopic(TopicKind.AgentInventory, "nas"), Parse(Default.AgentInventory("nas")));
        Assert.Equal(new ParsedTopic(TopicKind.AgentEvents, "nas"), Parse(Default.AgentEvents("nas")));
        Assert.Equal(new ParsedTopic(TopicKind.AgentCommands, "nas"), Parse(Default.AgentCommands("nas")));
        Assert.Equal(new ParsedTopic(TopicKind.Errors), Parse(Default.Errors));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("imac")]
    [InlineData("mac-mini_2")]
    [InlineData("9lives")]
    public void names_of_the_contract_pattern_are_accepted(string host)
    {
        Assert.Equal(host, Parse($"presence/hosts/{host}/signals/lid").Host);
    }

    [Fact]
    public void a_name_of_63_characters_is_accepted()
    {
        var host = new string('h', 63);

        Assert.Equal(host, Parse($"presence/agents/{host}/status").Host);
    }

    [Theory]
    [InlineData("IMac")]
    [InlineData("imaC")]
    [InlineData("-imac")]
    [InlineData("_imac")]
    [InlineData("im.ac")]
    [InlineData("im ac")]
    [InlineData("imac\n")]
    [InlineData("hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh")]
    public void a_bad_host_name_is_rejected_and_named(string host)
    {
        var topic = $"presence/hosts/{host}/signals/lid";

        var error = Rejection(topic);

        Assert.Equal($"host '{host}' in topic '{topic}' must match [a-z0-9][a-z0-9_-]{{0,62}}", error);
    }

    [Theory]
    [InlineData("presence/hosts/IMac/maintenance", "IMac")]
    [InlineData("presence/agents/-basement/status", "-basement")]
    [InlineData("presence/agents/Basement/inventory", "Basement")]
    [InlineData("presence/agents/basement!/events", "basement!")]
    [InlineData("presence/agents/BASEMENT/commands", "BASEMENT")]
    [InlineData("presence/hosts//signals/lid", "")]
    public void a_bad_host_name_is_rejected_in_every_host_topic(string topic, string host)
    {
        Assert.StartsWith($"host '{host}' in topic", Rejection(topic));
    }

    [Theory]
    [InlineData("presence/users/Alice/requests", "Alice")]
    [InlineData("presence/users/-alice/requests", "-alice")]
    [InlineData("presence/users/alice smith/state", "alice smith")]
    public void a_bad_user_name_is_rejected_and_named(string topic, string user)
    {
        Assert.Equal($"user '{user}' in topic '{topic}' must match [a-z0-9][a-z0-9_-]{{0,62}}", Rejection(topic));
    }

    [Theory]
    [InlineData("other/hosts/imac/signals/lid")]
    [InlineData("presence2/hosts/imac/signals/lid")]
    [InlineData("Presence/hosts/imac/signals/lid")]
    [InlineData("/presence/hosts/imac/signals/lid")]
    [InlineData("presence")]
    [InlineData("")]
    [InlineData("homeassistant/status")]
    public void a_topic_outside_the_root_is_rejected(string topic)
    {
        Assert.Equal($"topic '{topic}' is not under 'presence/'", Rejection(topic));
    }

    [Theory]
    [InlineData("presence/")]
    [InlineData("presence/hosts")]
    [InlineData("presence/hosts/imac")]
    [InlineData("presence/hosts/imac/signals")]
    [InlineData("presence/hosts/imac/signals/lid/extra")]
    [InlineData("presence/hosts/imac/maintenance/")]
    [InlineData("presence/hosts/imac/status")]
    [InlineData("presence/users/alice")]
    [InlineData("presence/users/alice/commands")]
    [InlineData("presence/users/alice/signals/idle")]
    [InlineData("presence/agents/basement/requests")]
    [InlineData("presence/agents/basement")]
    [InlineData("presence/errors/extra")]
    [InlineData("presence/status")]
    [InlineData("presence//errors")]
    public void a_topic_that_is_not_in_the_contract_is_rejected(string topic)
    {
        Assert.Equal($"topic '{topic}' is not part of the contract", Rejection(topic));
    }

    [Fact]
    public void a_custom_root_builds_and_parses_its_topics()
    {
        var topics = new Topics("house2/presence");

        Assert.Equal("house2/presence", topics.Root);
        Assert.Equal("house2/presence/hosts/imac/signals/lid", topics.Signal("imac", "lid"));
        Assert.Equal("house2/presence/errors", topics.Errors);
        Assert.Equal(new ParsedTopic(TopicKind.Signal, "imac", SignalKind: "lid"), Parse("house2/presence/hosts/imac/signals/lid", topics));
        Assert.Equal(new ParsedTopic(TopicKind.UserRequest, User: "alice"), Parse("house2/presence/users/alice/requests", topics));
    }

    [Fact]
    public void a_custom_root_rejects_the_default_root()
    {
        var topics = new Topics("villa");

        Assert.Equal("topic 'presence/hosts/imac/signals/lid' is not under 'villa/'", Rejection("presence/hosts/imac/signals/lid", topics));
    }

    [Fact]
    public void the_default_root_is_presence()
    {
        Assert.Equal("presence", Topics.DefaultRoot);
        Assert.Equal("presence", Default.Root);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("presence/")]
    [InlineData("presence/+")]
    [InlineData("#")]
    public void a_root_that_cannot_prefix_topics_is_refused(string root)
    {
        var error = Assert.Throws<ArgumentException>(() => new Topics(root));

        Assert.Contains($"'{root}'", error.Message);
    }

    [Fact]
    public void the_server_subscribes_to_everything_clients_publish_and_nothing_it_publishes()
    {
        var topics = new Topics("house2");

        Assert.Equal(
            [
                "house2/hosts/+/signals/+",
                "house2/hosts/+/maintenance",
                "house2/users/+/requests",
                "house2/agents/+/status",
                "house2/agents/+/inventory",
                "house2/agents/+/events",
            ],
            topics.ServerSubscriptions);
    }

    [Theory]
    [InlineData("alice", true)]
    [InlineData("a1_b-2", true)]
    [InlineData("Alice", false)]
    [InlineData("_alice", false)]
    [InlineData("alice\n", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void the_name_pattern(string? name, bool valid)
    {
        Assert.Equal(valid, Topics.IsValidName(name));
    }
}
