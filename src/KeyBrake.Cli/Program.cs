using KeyBrake.Cli;

return await KeyBrakeCommand.RunAsync(args);
