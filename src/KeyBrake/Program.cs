using KeyBrake;

var builder = WebApplication.CreateBuilder(args);
builder.AddKeyBrake();

var app = builder.Build();
app.MapKeyBrake();
app.Run();
