using Presence.Contracts.Requests;

namespace Presence.Contracts.Tests.Requests;

/// <summary>CONTRACT.md §2: requests about one user's session, and host maintenance.</summary>
public class parsing_requests
{
    private static UserRequest Request(string json, string user = "alice") => UserRequest.Parse(user, Payload.Utf8(json));

    private static MaintenanceRequest Maintenance(string json, string host = "basement") =>
        MaintenanceRequest.Parse(host, Payload.Utf8(json));

    [Theory]
    [InlineData("follow", RequestAction.Follow)]
    [InlineData("hold", RequestAction.Hold)]
    [InlineData("release", RequestAction.Release)]
    [InlineData("home", RequestAction.Home)]
    public void actions_without_arguments_need_only_the_action(string wire, RequestAction expected)
    {
        var request = Request($$"""{"action":"{{wire}}"}""");

        Assert.Equal("alice", request.User);
        Assert.Equal(expected, request.Action);
        Assert.Null(request.Target);
        Assert.Null(request.DecisionId);
    }

    [Fact]
    public void move_carries_its_target_host()
    {
        var request = Request("""{"action":"move","target":"basement"}""");

        Assert.Equal(RequestAction.Move, request.Action);
        Assert.Equal("basement", request.Target);
    }

    [Fact]
    public void move_needs_a_target()
    {
        var message = Payload.Rejection(() => Request("""{"action":"move"}"""));

        Assert.Equal("required field 'target' is missing; expected a string", message);
    }

    [Fact]
    public void move_needs_a_target_that_is_a_host_name()
    {
        var message = Payload.Rejection(() => Request("""{"action":"move","target":"Basement"}"""));

        Assert.Equal("field 'target' must match [a-z0-9][a-z0-9_-]{0,62}, got \"Basement\"", message);
    }

    [Fact]
    public void move_needs_a_target_that_is_a_string()
    {
        var message = Payload.Rejection(() => Request("""{"action":"move","target":["basement"]}"""));

        Assert.StartsWith("field 'target' must be a string", message);
    }

    [Theory]
    [InlineData("approve", RequestAction.Approve)]
    [InlineData("decline", RequestAction.Decline)]
    public void approve_and_decline_carry_the_decision_id(string wire, RequestAction expected)
    {
        var request = Request($$"""{"action":"{{wire}}","decision_id":"d-2026-11-25-001"}""");

        Assert.Equal(expected, request.Action);
        Assert.Equal("d-2026-11-25-001", request.DecisionId);
    }

    [Theory]
    [InlineData("approve")]
    [InlineData("decline")]
    public void approve_and_decline_need_a_decision_id(string wire)
    {
        var message = Payload.Rejection(() => Request($$"""{"action":"{{wire}}","target":"imac"}"""));

        Assert.Equal("required field 'decision_id' is missing; expected a string", message);
    }

    [Theory]
    [InlineData("manual", AutomationChoice.Manual)]
    [InlineData("recommend", AutomationChoice.Recommend)]
    [InlineData("automatic", AutomationChoice.Automatic)]
    public void automation_carries_its_level(string wire, AutomationChoice expected)
    {
        var request = Request($$"""{"action":"automation","level":"{{wire}}"}""");

        Assert.Equal((RequestAction.Automation, expected), (request.Action, request.Level));
    }

    [Fact]
    public void automation_needs_a_level()
    {
        var message = Payload.Rejection(() => Request("""{"action":"automation"}"""));

        Assert.Equal("required field 'level' is missing; expected one of manual|recommend|automatic", message);
    }

    [Fact]
    public void automation_needs_a_level_that_exists()
    {
        var message = Payload.Rejection(() => Request("""{"action":"automation","level":"sometimes"}"""));

        Assert.Equal("field 'level' must be one of manual|recommend|automatic, got \"sometimes\"", message);
    }

    [Fact]
    public void a_decision_id_longer_than_64_characters_is_rejected()
    {
        var message = Payload.Rejection(() => Request($$"""{"action":"approve","decision_id":"{{new string('d', 65)}}"}"""));

        Assert.Equal("field 'decision_id' is 65 characters long; at most 64 allowed", message);
    }

    [Fact]
    public void an_unknown_action_lists_the_allowed_ones()
    {
        var message = Payload.Rejection(() => Request("""{"action":"teleport"}"""));

        Assert.Equal("field 'action' must be one of follow|hold|release|move|home|approve|decline|automation, got \"teleport\"", message);
    }

    [Fact]
    public void a_request_needs_an_action()
    {
        var message = Payload.Rejection(() => Request("""{"target":"imac"}"""));

        Assert.StartsWith("required field 'action' is missing", message);
    }

    [Fact]
    public void a_request_carries_id_and_at_and_ignores_unknown_keys()
    {
        var request = Request("""{"action":"hold","id":"ha-17","at":"2026-11-25T08:30:00Z","source":"dashboard"}""");

        Assert.Equal("ha-17", request.Id);
        Assert.Equal(Payload.Now, request.At);
    }

    [Theory]
    [InlineData("on", MaintenanceRequest.Switch.On)]
    [InlineData("off", MaintenanceRequest.Switch.Off)]
    public void maintenance_is_switched_on_or_off(string wire, MaintenanceRequest.Switch expected)
    {
        var request = Maintenance($$"""{"state":"{{wire}}"}""");

        Assert.Equal("basement", request.Host);
        Assert.Equal(expected, request.State);
        Assert.Null(request.Reason);
    }

    [Fact]
    public void maintenance_carries_its_reason()
    {
        var request = Maintenance("""{"state":"on","reason":"replacing the PSU","id":"m1"}""");

        Assert.Equal("replacing the PSU", request.Reason);
        Assert.Equal("m1", request.Id);
    }

    [Fact]
    public void maintenance_needs_a_state()
    {
        var message = Payload.Rejection(() => Maintenance("""{"reason":"why not"}"""));

        Assert.Equal("required field 'state' is missing; expected one of on|off", message);
    }

    [Theory]
    [InlineData("\"maybe\"")]
    [InlineData("true")]
    [InlineData("\"ON\"")]
    public void maintenance_state_is_on_or_off_only(string value)
    {
        var message = Payload.Rejection(() => Maintenance($$"""{"state":{{value}}}"""));

        Assert.Equal($"field 'state' must be one of on|off, got {value}", message);
    }

    [Fact]
    public void a_maintenance_reason_must_be_text()
    {
        var message = Payload.Rejection(() => Maintenance("""{"state":"on","reason":42}"""));

        Assert.Equal("field 'reason' must be a string, got 42", message);
    }
}
