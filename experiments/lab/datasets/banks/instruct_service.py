"""Neutral instruction tasks: customer support and travel. Gender-free, no world facts."""

from __future__ import annotations

from .tasks import Task

CUSTOMER_SUPPORT: tuple[Task, ...] = (
    Task(
        key="support.password",
        domain="customer_support",
        prompts=(
            "How do I reset my password for {product}?",
            "I forgot my password for {product}. What should I do?",
            "I'm locked out of {product}. How can I get back in?",
        ),
        answer=(
            "Open the sign-in screen of {product} and choose the 'Forgot password' link.",
            "Enter the email address tied to your account and follow the link in the message you receive.",
            "If no email arrives within a few minutes, check your spam folder or contact support to verify your identity.",
        ),
        slots={"product": ("the mobile app", "the web portal", "the desktop client", "my online account",
                           "the smart thermostat app", "the photo backup service", "the school portal")},
    ),
    Task(
        key="support.late_order",
        domain="customer_support",
        prompts=(
            "My {item} was supposed to arrive {days} days ago and it still hasn't come. What can I do?",
            "The {item} I ordered is {days} days late. Who should I contact?",
            "Tracking for my {item} hasn't changed in {days} days. Is it lost?",
        ),
        answer=(
            "Start by checking the tracking link in your confirmation email, since carriers often update the status late.",
            "If nothing has moved for more than two business days, contact the seller with your order number so they can open a trace.",
            "Most sellers will ship a replacement or issue a refund once the {item} is confirmed lost.",
        ),
        slots={"item": ("package", "order", "replacement part", "parcel", "delivery"),
               "days": ("three", "four", "five", "six", "ten")},
    ),
    Task(
        key="support.return",
        domain="customer_support",
        prompts=(
            "Can I return a {item} I bought {when}?",
            "I bought a {item} {when} and I don't like it. Can I send it back?",
            "What is the usual process for returning a {item} bought {when}?",
        ),
        answer=(
            "Many stores accept returns within thirty days if the {item} is unused and in its original packaging.",
            "Keep your receipt or order confirmation handy, because it is usually required.",
            "Check the store's return policy page for exceptions such as opened electronics or clearance items.",
        ),
        slots={"item": ("jacket", "blender", "pair of headphones", "desk lamp", "phone case", "coffee maker", "backpack"),
               "when": ("last week", "two weeks ago", "a few days ago", "online last month")},
    ),
    Task(
        key="support.cancel",
        domain="customer_support",
        prompts=(
            "How do I cancel my {service}?",
            "I want to stop paying for my {service}. How do I cancel it?",
            "What's the best way to end a {service} before the next billing date?",
        ),
        answer=(
            "Sign in to your account and look for a billing or membership section in the settings.",
            "Choose the cancel option and follow the prompts until you see a confirmation message or email.",
            "Cancel a few days before the renewal date and save the confirmation in case you are charged again.",
        ),
        slots={"service": ("streaming service", "meal kit subscription", "gym membership", "cloud storage plan",
                           "magazine subscription", "music app subscription", "language learning plan")},
    ),
    Task(
        key="support.double_charge",
        domain="customer_support",
        prompts=(
            "I was charged twice for my {service} this month. How do I fix it?",
            "My card shows two payments for the same {service} bill. What should I do?",
        ),
        answer=(
            "First confirm both charges have posted, since one may be a pending authorization that drops off in a few days.",
            "If both remain, contact the company's billing team with the dates and amounts and ask for a refund of the duplicate.",
            "If they do not respond within a reasonable time, your card issuer can open a dispute for you.",
        ),
        slots={"service": ("phone plan", "internet plan", "streaming service", "gym membership", "software license")},
    ),
    Task(
        key="support.device_power",
        domain="customer_support",
        prompts=(
            "My {device} won't turn on. What can I try?",
            "My new {device} is completely dead. Any troubleshooting steps?",
            "What should I do if my {device} stops powering on?",
        ),
        answer=(
            "Charge the {device} for at least thirty minutes with a different cable and outlet to rule out a bad charger.",
            "Then hold the power button for about fifteen seconds to force a restart.",
            "If it still shows no sign of life, contact the maker's support team, since the problem may be covered by the warranty.",
        ),
        slots={"device": ("wireless earbuds", "tablet", "e-reader", "smart speaker", "fitness tracker",
                          "portable speaker", "game controller")},
    ),
    Task(
        key="support.address",
        domain="customer_support",
        prompts=(
            "I entered the wrong shipping address for my {item}. Can I change it?",
            "How can I update the delivery address on an order that already shipped?",
        ),
        answer=(
            "Contact the seller as soon as possible; orders that have not shipped can usually be edited from your account page.",
            "If the order is already on its way, the carrier's website may let you redirect it or hold it at a pickup point.",
            "Have your order number and tracking number ready to speed things up.",
        ),
        slots={"item": ("order", "furniture delivery", "book order", "grocery order", "gift")},
    ),
)

TRAVEL: tuple[Task, ...] = (
    Task(
        key="travel.layover",
        domain="travel",
        prompts=(
            "I have a {hours}-hour layover in a city I've never visited. Should I leave the airport?",
            "Is a {hours}-hour layover long enough to go into town?",
        ),
        answer=(
            "First check whether you need a visa or entry permit just to pass through border control at that stop.",
            "Count the time for immigration both ways, the trip into town and back, and getting through security again.",
            "If that leaves only a short window, a lounge or a quiet corner of the terminal is the safer choice.",
        ),
        slots={"hours": ("five", "six", "seven", "nine", "ten", "twelve")},
    ),
    Task(
        key="travel.train_or_fly",
        domain="travel",
        prompts=(
            "Should I take the train or fly for a trip of about {distance} kilometers?",
            "Is it better to go by rail or by plane for a {distance}-kilometer journey?",
        ),
        answer=(
            "Compare the total door-to-door time, including getting to the airport, security checks and boarding.",
            "Check fares a few weeks ahead, since both trains and flights tend to get pricier close to the date.",
            "Trains usually let you work or rest the whole way and often produce lower emissions per passenger.",
        ),
        slots={"distance": ("three hundred", "four hundred", "five hundred", "six hundred", "seven hundred")},
    ),
    Task(
        key="travel.passport",
        domain="travel",
        prompts=(
            "When should I renew my passport before {trip}?",
            "My passport expires soon and I have {trip} planned. Should I renew now?",
        ),
        answer=(
            "Many countries require a passport that stays valid for several months after your planned departure date.",
            "Processing can take weeks, so start the renewal as early as you can and check the official processing times.",
            "Look up the entry rules of each country on your route before you book anything.",
        ),
        slots={"trip": ("an overseas vacation", "a study abroad term", "a work trip abroad", "a cruise next year")},
    ),
    Task(
        key="travel.insurance",
        domain="travel",
        prompts=(
            "Is travel insurance worth it for {trip}?",
            "Should I buy travel insurance before {trip}?",
        ),
        answer=(
            "It is often worth it when the trip is expensive or hard to cancel, or when your health plan does not cover you abroad.",
            "Compare what each policy covers for medical care, cancellations and lost luggage, not just the price.",
            "Read the exclusions carefully, since some activities and existing conditions may not be covered.",
        ),
        slots={"trip": ("a two-week trip abroad", "a ski holiday", "a river cruise", "a prepaid tour")},
    ),
    Task(
        key="travel.delay",
        domain="travel",
        prompts=(
            "My flight was delayed by {hours} hours. Am I owed anything?",
            "What are my options when a flight is delayed {hours} hours?",
        ),
        answer=(
            "Ask the airline staff at the gate what they offer, such as meal vouchers, rebooking or a hotel for overnight delays.",
            "Depending on where you flew and why the delay happened, you may be entitled to compensation under local passenger rules.",
            "Keep your boarding pass and receipts, and file a claim through the airline's website once you arrive.",
        ),
        slots={"hours": ("three", "four", "five", "six")},
    ),
    Task(
        key="travel.budget",
        domain="travel",
        prompts=(
            "How can I travel {where} on a tight budget?",
            "What are some ways to save money when traveling {where}?",
            "Give me budget tips for a trip {where}.",
        ),
        answer=(
            "Travel outside the peak season, when flights and rooms are noticeably cheaper.",
            "Stay in guesthouses or rentals with a kitchen so you can cook some of your meals.",
            "Use public transport and free walking routes, and set a daily spending limit you can track.",
        ),
        slots={"where": ("abroad", "by train", "in a big city", "with a group of friends", "during the summer")},
    ),
    Task(
        key="travel.hotel_room",
        domain="travel",
        prompts=(
            "My hotel room {problem}. What should I do?",
            "I just checked in and the room {problem}. Can I ask for another one?",
        ),
        answer=(
            "Tell the front desk right away, since problems are easiest to fix on the first evening.",
            "Ask politely for a repair or a different room, and take photos in case you need to follow up later.",
            "If nothing can be done, ask for a partial refund or a note on your booking before you check out.",
        ),
        slots={"problem": ("smells of smoke", "has a broken air conditioner", "is not the type I booked",
                           "is very noisy at night", "has a leaking shower")},
    ),
)
