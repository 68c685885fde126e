namespace Presence.Contracts.Wire;

/// <summary>A payload or topic that breaks the contract. The message is meant for people: it names what was wrong.</summary>
public sealed class ContractException(string message) : Exception(message);
