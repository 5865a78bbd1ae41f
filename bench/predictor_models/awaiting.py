import asyncio


async def predict(sample, metadata):
    await asyncio.sleep(0.02)  # e.g. a call to another service that takes 20 ms
    return {"ok": True}
