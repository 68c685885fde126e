using System.Text.Json;
using Presence.Contracts.Agents;

namespace Presence.Contracts.Tests.Agents;

/// <summary>CONTRACT.md §3: status, inventory, commands and events between the server and the agents.</summary>
public class agent_messages
{
    private const string ContractInventory =
        """
        {"cpus":16,"memory_mb":65536,"memory_free_mb":40960,"on_battery":false,"battery_percent":null,"link_mbps":1000,
         "vms":[{"name":"alice-desktop","state":"running","memory_mb":8192,"display_uri":"spice://basement:5901"}]}
        """;

    private static AgentInventory Inventory(string json) => AgentInventory.Parse("basement", Payload.Utf8(json));

    private static AgentEvent Event(string json) => AgentEvent.Parse("basement", Payload.Utf8(json));

    private static AgentCommand Command(string json) => AgentCommand.Parse(Payload.Utf8(json));

    [Fact]
    public void status_from_the_contract()
    {
        var status = AgentStatus.Parse("basement", Payload.Utf8("""{"state":"online","agent_version":"0.3.1","hypervisor":"libvirt"}"""));

        Assert.Equal("basement", status.Host);
        Assert.Equal(AgentState.Online, status.State);
        Assert.Equal("0.3.1", status.AgentVersion);
        Assert.Equal(Hypervisor.Libvirt, status.Hypervisor);
    }

    [Fact]
    public void a_last_will_may_say_only_offline()
    {
        var status = AgentStatus.Parse("basement", Payload.Utf8("""{"state":"offline"}"""));

        Assert.Equal(AgentState.Offline, status.State);
        Assert.Null(status.AgentVersion);
        Assert.Null(status.Hypervisor);
    }

    [Fact]
    public void an_unknown_hypervisor_lists_the_allowed_ones()
    {
        var message = Payload.Rejection(() => AgentStatus.Parse("basement", Payload.Utf8("""{"state":"online","hypervisor":"vmware"}""")));

        Assert.Equal("field 'hypervisor' must be one of qemu|libvirt|simulated, got \"vmware\"", message);
    }

    [Fact]
    public void a_status_needs_its_state()
    {
        var message = Payload.Rejection(() => AgentStatus.Parse("basement", Payload.Utf8("""{"hypervisor":"qemu"}""")));

        Assert.Equal("required field 'state' is missing; expected one of online|offline", message);
    }

    [Fact]
    public void inventory_from_the_contract_example()
    {
        var inventory = Inventory(ContractInventory);

        Assert.Equal("basement", inventory.Host);
        Assert.Equal(16, inventory.Cpus);
        Assert.Equal(65536, inventory.MemoryMb);
        Assert.Equal(40960, inventory.MemoryFreeMb);
        Assert.False(inventory.OnBattery);
        Assert.Null(inventory.BatteryPercent);
        Assert.Equal(1000, inventory.LinkMbps);
        var vm = Assert.Single(inventory.Vms);
        Assert.Equal(
            new VmInventory { Name = "alice-desktop", State = VmState.Running, MemoryMb = 8192, DisplayUri = "spice://basement:5901" },
            vm);
    }

    [Fact]
    public void an_inventory_needs_only_cpus_and_memory()
    {
        var inventory = Inventory("""{"cpus":4,"memory_mb":8192,"memory_free_mb":1024}""");

        Assert.False(inventory.OnBattery);
        Assert.Null(inventory.BatteryPercent);
        Assert.Null(inventory.LinkMbps);
        Assert.Empty(inventory.Vms);
    }

    [Fact]
    public void an_inventory_on_battery()
    {
        var inventory = Inventory("""{"cpus":8,"memory_mb":16384,"memory_free_mb":4096,"on_battery":true,"battery_percent":42}""");

        Assert.True(inventory.OnBattery);
        Assert.Equal(42, inventory.BatteryPercent);
    }

    [Theory]
    [InlineData("running", VmState.Running)]
    [InlineData("paused", VmState.Paused)]
    [InlineData("suspended", VmState.Suspended)]
    [InlineData("incoming", VmState.Incoming)]
    [InlineData("stopped", VmState.Stopped)]
    public void every_vm_state_of_the_contract_is_understood(string wire, VmState expected)
    {
        var inventory = Inventory($$"""{"cpus":1,"memory_mb":1,"memory_free_mb":1,"vms":[{"name":"v","state":"{{wire}}","memory_mb":512}]}""");

        Assert.Equal(expected, Assert.Single(inventory.Vms).State);
    }

    [Theory]
    [InlineData("""{"memory_mb":1,"memory_free_mb":1}""", "cpus")]
    [InlineData("""{"cpus":1,"memory_free_mb":1}""", "memory_mb")]
    [InlineData("""{"cpus":1,"memory_mb":1}""", "memory_free_mb")]
    [InlineData("""{"cpus":1,"memory_mb":1,"memory_free_mb":1,"vms":[{"state":"running","memory_mb":1}]}""", "name")]
    [InlineData("""{"cpus":1,"memory_mb":1,"memory_free_mb":1,"vms":[{"name":"v","memory_mb":1}]}""", "state")]
    [InlineData("""{"cpus":1,"memory_mb":1,"memory_free_mb":1,"vms":[{"name":"v","state":"running"}]}""", "memory_mb")]
    public void an_inventory_missing_a_required_field_names_it(string json, string field)
    {
        Assert.StartsWith($"required field '{field}' is missing", Payload.Rejection(() => Inventory(json)));
    }

    [Theory]
    [InlineData("""{"cpus":0,"memory_mb":1,"memory_free_mb":1}""", "field 'cpus' must be between 1 and 4096, got 0")]
    [InlineData("""{"cpus":1,"memory_mb":-1,"memory_free_mb":1}""", "field 'memory_mb' must be between 0 and 2147483647, got -1")]
    [InlineData("""{"cpus":1,"memory_mb":1,"memory_free_mb":1,"battery_percent":101}""", "field 'battery_percent' must be between 0 and 100, got 101")]
    [InlineData("""{"cpus":"16","memory_mb":1,"memory_free_mb":1}""", "field 'cpus' must be a whole number, got \"16\"")]
    [InlineData("""{"cpus":1,"memory_mb":1,"memory_free_mb":1,"on_battery":"no"}""", "field 'on_battery' must be true or false, got \"no\"")]
    [InlineData("""{"cpus":1,"memory_mb":1,"memory_free_mb":1,"vms":{}}""", "field 'vms' must be an array, got {}")]
    [InlineData("""{"cpus":1,"memory_mb":1,"memory_free_mb":1,"vms":["alice-desktop"]}""", "field 'vms[0]' must be an object, got \"alice-desktop\"")]
    [InlineData("""{"cpus":1,"memory_mb":1,"memory_free_mb":1,"vms":[{"name":"v","state":"zombie","memory_mb":1}]}""", "field 'state' must be one of running|paused|suspended|incoming|stopped, got \"zombie\"")]
    [InlineData("""{"cpus":1,"memory_mb":1,"memory_free_mb":1,"vms":[{"name":"Alice Desktop","state":"running","memory_mb":1}]}""", "field 'name' must match [a-z0-9][a-z0-9_-]{0,62}, got \"Alice Desktop\"")]
    public void a_bad_inventory_is_rejected_saying_why(string json, string expected)
    {
        Assert.Equal(expected, Payload.Rejection(() => Inventory(json)));
    }

    [Fact]
    public void an_accepted_event()
    {
        var e = Event("""{"command_id":"4b1c","vm":"alice-desktop","state":"accepted","id":"e1","at":"2026-11-25T08:30:00Z"}""");

        Assert.Equal("basement", e.Host);
        Assert.Equal("4b1c", e.CommandId);
        Assert.Equal("alice-desktop", e.Vm);
        Assert.Equal(AgentEventState.Accepted, e.State);
        Assert.Null(e.IncomingUri);
        Assert.Null(e.Progress);
        Assert.Equal("e1", e.Id);
        Assert.Equal(Payload.Now, e.At);
    }

    [Fact]
    public void a_ready_event_carries_the_incoming_uri()
    {
        var e = Event("""{"command_id":"c1","vm":"alice-desktop","state":"ready","incoming_uri":"tcp:basement:49152"}""");

        Assert.Equal(AgentEventState.Ready, e.State);
        Assert.Equal("tcp:basement:49152", e.IncomingUri);
    }

    [Fact]
    public void a_ready_event_needs_the_incoming_uri()
    {
        var message = Payload.Rejection(() => Event("""{"command_id":"c1","vm":"alice-desktop","state":"ready"}"""));

        Assert.Equal("required field 'incoming_uri' is missing; expected a string", message);
    }

    [Fact]
    public void a_progress_event_carries_the_migration_numbers()
    {
        var e = Event(
            """
            {"command_id":"c2","vm":"alice-desktop","state":"progress",
             "progress":{"total_bytes":8589934592,"transferred_bytes":2147483648,"remaining_bytes":6442450944,"dirty_pages_rate":1200,"mbps":940.5}}
            """);

        Assert.Equal(AgentEventState.Progress, e.State);
        Assert.Equal(
            new MigrationProgress
            {
                TotalBytes = 8589934592, TransferredBytes = 2147483648, RemainingBytes = 6442450944, DirtyPagesRate = 1200, Mbps = 940.5,
            },
            e.Progress);
        Assert.Equal(25.0, e.Progress!.Percent);
    }

    [Fact]
    public void a_completed_event_carries_its_timings()
    {
        var e = Event("""{"command_id":"c2","vm":"alice-desktop","state":"completed","downtime_ms":48,"total_time_ms":21500}""");

        Assert.Equal(AgentEventState.Completed, e.State);
        Assert.Equal(48, e.DowntimeMs);
        Assert.Equal(21500, e.TotalTimeMs);
    }

    [Fact]
    public void a_failed_event_carries_its_error()
    {
        var e = Event("""{"command_id":"c2","vm":"alice-desktop","state":"failed","error":"qemu: migration cancelled by peer"}""");

        Assert.Equal(AgentEventState.Failed, e.State);
        Assert.Equal("qemu: migration cancelled by peer", e.Error);
    }

    [Theory]
    [InlineData("""{"vm":"v","state":"accepted"}""", "required field 'command_id' is missing; expected a string")]
    [InlineData("""{"command_id":"c","state":"accepted"}""", "required field 'vm' is missing; expected a string")]
    [InlineData("""{"command_id":"c","vm":"v"}""", "required field 'state' is missing; expected one of accepted|ready|progress|completed|failed|cancelled")]
    [InlineData("""{"command_id":"c","vm":"v","state":"done"}""", "field 'state' must be one of accepted|ready|progress|completed|failed|cancelled, got \"done\"")]
    [InlineData("""{"command_id":"c","vm":"v","state":"progress","progress":[]}""", "field 'progress' must be an object, got []")]
    [InlineData("""{"command_id":"c","vm":"v","state":"progress","progress":{"total_bytes":-5}}""", "field 'total_bytes' must be between 0 and 9223372036854775807, got -5")]
    [InlineData("""{"command_id":"c","vm":"v","state":"completed","downtime_ms":"fast"}""", "field 'downtime_ms' must be a whole number, got \"fast\"")]
    public void a_bad_event_is_rejected_saying_why(string json, string expected)
    {
        Assert.Equal(expected, Payload.Rejection(() => Event(json)));
    }

    [Theory]
    [InlineData(1000L, null, 250L, 75.0)]
    [InlineData(1000L, 400L, null, 40.0)]
    [InlineData(1000L, 900L, 500L, 50.0)]
    [InlineData(1000L, 1500L, null, 100.0)]
    [InlineData(1000L, null, 1500L, 0.0)]
    [InlineData(1000L, null, 0L, 100.0)]
    [InlineData(1000L, 0L, null, 0.0)]
    public void migration_percent_comes_from_remaining_or_transferred_bytes(long total, long? transferred, long? remaining, double expected)
    {
        var progress = new MigrationProgress { TotalBytes = total, TransferredBytes = transferred, RemainingBytes = remaining };

        Assert.Equal(expected, progress.Percent);
    }

    [Theory]
    [InlineData(null, 400L, 600L)]
    [InlineData(0L, 0L, 0L)]
    [InlineData(1000L, null, null)]
    public void migration_percent_is_unknown_without_a_total_or_a_count(long? total, long? transferred, long? remaining)
    {
        var progress = new MigrationProgress { TotalBytes = total, TransferredBytes = transferred, RemainingBytes = remaining };

        Assert.Null(progress.Percent);
    }

    [Fact]
    public void a_migrate_command_from_the_contract()
    {
        var command = Command(
            """
            {"command_id":"0f8e7c1a-3b2d-4c5e-9f00-112233445566","type":"migrate","vm":"alice-desktop",
             "target_host":"imac","target_uri":"tcp:imac:49152","mode":"live","max_bandwidth_mbps":900,"downtime_limit_ms":300}
            """);

        Assert.Equal(
            new AgentCommand
            {
                CommandId = "0f8e7c1a-3b2d-4c5e-9f00-112233445566",
                Type = CommandType.Migrate,
                Vm = "alice-desktop",
                TargetHost = "imac",
                TargetUri = "tcp:imac:49152",
                Mode = MigrationMode.Live,
                MaxBandwidthMbps = 900,
                DowntimeLimitMs = 300,
            },
            command);
    }

    [Theory]
    [InlineData("""{"command_id":"c","type":"migrate","vm":"v","target_uri":"tcp:imac:1"}""", "target_host")]
    [InlineData("""{"command_id":"c","type":"migrate","vm":"v","target_host":"imac"}""", "target_uri")]
    [InlineData("""{"command_id":"c","type":"cancel","vm":"v"}""", "of")]
    [InlineData("""{"command_id":"c","type":"attach_display","vm":"v"}""", "display_uri")]
    [InlineData("""{"type":"resume","vm":"v"}""", "command_id")]
    [InlineData("""{"command_id":"c","type":"resume"}""", "vm")]
    [InlineData("""{"command_id":"c","vm":"v"}""", "type")]
    public void a_command_missing_a_required_field_names_it(string json, string field)
    {
        Assert.StartsWith($"required field '{field}' is missing", Payload.Rejection(() => Command(json)));
    }

    [Fact]
    public void cancel_names_the_command_it_cancels()
    {
        var command = Command("""{"command_id":"c9","type":"cancel","vm":"alice-desktop","of":"c2"}""");

        Assert.Equal(CommandType.Cancel, command.Type);
        Assert.Equal("c2", command.Of);
    }

    [Theory]
    [InlineData("prepare_incoming")]
    [InlineData("abort_incoming")]
    [InlineData("suspend")]
    [InlineData("resume")]
    [InlineData("detach_display")]
    public void other_commands_need_only_id_type_and_vm(string type)
    {
        var command = Command($$"""{"command_id":"c","type":"{{type}}","vm":"alice-desktop"}""");

        Assert.Equal(type, ContractJson.WireName(command.Type));
    }

    [Fact]
    public void an_unknown_command_type_lists_the_allowed_ones()
    {
        var message = Payload.Rejection(() => Command("""{"command_id":"c","type":"reboot","vm":"v"}"""));

        Assert.Equal(
            "field 'type' must be one of prepare_incoming|migrate|abort_incoming|cancel|suspend|resume|attach_display|detach_display, got \"reboot\"",
            message);
    }

    [Fact]
    public void migrate_mode_is_live_only()
    {
        var message = Payload.Rejection(() =>
            Command("""{"command_id":"c","type":"migrate","vm":"v","target_host":"imac","target_uri":"tcp:imac:1","mode":"offline"}"""));

        Assert.Equal("field 'mode' must be one of live, got \"offline\"", message);
    }

    public static TheoryData<AgentCommand> Commands => new()
    {
        new AgentCommand { CommandId = "c1", Type = CommandType.PrepareIncoming, Vm = "alice-desktop", MemoryMb = 8192, Definition = "shared:/vms/alice-desktop.xml" },
        new AgentCommand
        {
            CommandId = "c2", Type = CommandType.Migrate, Vm = "alice-desktop", TargetHost = "imac", TargetUri = "tcp:imac:49152",
            Mode = MigrationMode.Live, MaxBandwidthMbps = 900, DowntimeLimitMs = 300,
        },
        new AgentCommand { CommandId = "c3", Type = CommandType.AbortIncoming, Vm = "alice-desktop" },
        new AgentCommand { CommandId = "c4", Type = CommandType.Cancel, Vm = "alice-desktop", Of = "c2" },
        new AgentCommand { CommandId = "c5", Type = CommandType.Suspend, Vm = "alice-desktop", To = "/srv/presence/state/alice-desktop.state" },
        new AgentCommand { CommandId = "c6", Type = CommandType.Resume, Vm = "alice-desktop", From = "/srv/presence/state/alice-desktop.state" },
        new AgentCommand { CommandId = "c7", Type = CommandType.AttachDisplay, Vm = "alice-desktop", DisplayUri = "spice://basement:5901" },
        new AgentCommand { CommandId = "c8", Type = CommandType.DetachDisplay, Vm = "alice-desktop" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void a_serialised_command_parses_back_to_itself(AgentCommand command)
    {
        var json = ContractJson.Serialize(command);

        Assert.Equal(command, AgentCommand.Parse(json));
    }

    [Fact]
    public void a_serialised_command_uses_snake_case_and_omits_what_is_unset()
    {
        var json = ContractJson.Serialize(new AgentCommand
        {
            CommandId = "c1", Type = CommandType.PrepareIncoming, Vm = "alice-desktop", MemoryMb = 8192,
        });

        using var document = JsonDocument.Parse(json);
        Assert.Equal(
            ["command_id", "type", "vm", "memory_mb"],
            document.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("prepare_incoming", document.RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public void a_serialised_migrate_command_names_its_fields_as_the_contract_does()
    {
        var json = ContractJson.Serialize(new AgentCommand
        {
            CommandId = "c2", Type = CommandType.Migrate, Vm = "alice-desktop", TargetHost = "imac", TargetUri = "tcp:imac:49152",
            Mode = MigrationMode.Live, MaxBandwidthMbps = 900, DowntimeLimitMs = 300,
        });

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal("migrate", root.GetProperty("type").GetString());
        Assert.Equal("imac", root.GetProperty("target_host").GetString());
        Assert.Equal("tcp:imac:49152", root.GetProperty("target_uri").GetString());
        Assert.Equal("live", root.GetProperty("mode").GetString());
        Assert.Equal(900, root.GetProperty("max_bandwidth_mbps").GetInt32());
        Assert.Equal(300, root.GetProperty("downtime_limit_ms").GetInt32());
    }
}
