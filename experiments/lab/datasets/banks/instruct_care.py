"""Neutral instruction tasks: general health and everyday legal questions.

Answers are cautious general information that point to a professional, as a
careful assistant would; they carry no specific facts a knowledge probe could test.
"""

from __future__ import annotations

from .tasks import Task

MEDICINE: tuple[Task, ...] = (
    Task(
        key="medicine.cold",
        domain="medicine",
        prompts=(
            "What can I do to feel better when I have {ailment}?",
            "Any home care tips for {ailment}?",
            "I've had {ailment} for {days} days. How can I recover faster?",
        ),
        answer=(
            "Rest as much as you can and drink plenty of fluids such as water, tea or broth.",
            "Over-the-counter remedies can ease symptoms; follow the dosing on the label.",
            "See a doctor if you develop a high fever, trouble breathing, or symptoms that last more than a week or two.",
        ),
        slots={"ailment": ("a cold", "a sore throat", "a stuffy nose", "a mild cough"),
               "days": ("two", "three", "four", "five")},
    ),
    Task(
        key="medicine.eye_strain",
        domain="medicine",
        prompts=(
            "My eyes feel tired after {activity}. What helps?",
            "How can I reduce eye strain from {activity}?",
        ),
        answer=(
            "Take regular short breaks and look at something far away for a little while to relax your focus.",
            "Set the screen brightness to match the room, enlarge the text, and remember to blink often.",
            "If the strain, blurriness or headaches continue, book an eye exam, since you may need glasses or a new prescription.",
        ),
        slots={"activity": ("a day at the computer", "long study sessions", "reading on my phone", "gaming all evening")},
    ),
    Task(
        key="medicine.sprain",
        domain="medicine",
        prompts=(
            "I twisted my {joint} while {activity}. What should I do?",
            "How should I care for a sprained {joint}?",
        ),
        answer=(
            "Rest the {joint}, put ice wrapped in a cloth on it for about fifteen minutes at a time, and keep it raised.",
            "A light compression wrap can help with swelling, as long as it does not feel tight or cause numbness.",
            "Get it checked if you cannot bear weight, the pain is severe, or it is not improving after a few days.",
        ),
        slots={"joint": ("ankle", "wrist", "knee"),
               "activity": ("running", "playing basketball", "hiking", "stepping off a curb")},
    ),
    Task(
        key="medicine.sunburn",
        domain="medicine",
        prompts=(
            "I got a sunburn {where}. How do I treat it?",
            "What helps a sunburn heal after a day {where}?",
        ),
        answer=(
            "Cool the skin with a damp cloth or a cool shower and apply a gentle moisturizer or aloe gel.",
            "Drink extra water and avoid more sun until the skin has healed.",
            "Seek medical care if you have large blisters, fever or chills.",
        ),
        slots={"where": ("at the beach", "on a hike", "at an outdoor concert", "in the garden")},
    ),
    Task(
        key="medicine.appointment",
        domain="medicine",
        prompts=(
            "How should I prepare for a doctor's appointment about {concern}?",
            "What should I bring to a checkup about {concern}?",
        ),
        answer=(
            "Write down your symptoms, when they started, and anything that makes them better or worse.",
            "Bring a list of the medicines and supplements you take, with their doses.",
            "Note your questions in advance so you remember to ask them during the visit.",
        ),
        slots={"concern": ("recurring headaches", "back pain", "trouble sleeping", "stomach aches", "fatigue")},
    ),
    Task(
        key="medicine.activity",
        domain="medicine",
        prompts=(
            "How can I stay active with {situation}?",
            "What are easy ways to move more when I have {situation}?",
        ),
        answer=(
            "Stand up and walk for a few minutes every hour, even just around the room.",
            "Fit short bouts of activity into your day, such as taking the stairs or walking during calls.",
            "Aim for regular moderate exercise across the week, and check with a doctor first if you have a health condition.",
        ),
        slots={"situation": ("a desk job", "a long commute", "a busy schedule", "little free time")},
    ),
    Task(
        key="medicine.label",
        domain="medicine",
        prompts=(
            "How do I read the label on {medicine}?",
            "What should I check on the package of {medicine} before taking it?",
        ),
        answer=(
            "Look at the active ingredient first, so you do not take two products that contain the same one.",
            "Follow the dose and the time between doses exactly as printed, and note the maximum per day.",
            "Read the warnings section and ask a pharmacist if you take other medicines or have a chronic condition.",
        ),
        slots={"medicine": ("a pain reliever", "an allergy tablet", "a cough syrup", "a cold remedy")},
    ),
)

LAW: tuple[Task, ...] = (
    Task(
        key="law.deposit",
        domain="law",
        prompts=(
            "The owner of my apartment has kept my security deposit for {weeks} weeks after I moved out. What can I do?",
            "My rental company still hasn't returned my deposit after {weeks} weeks. What are my options?",
        ),
        answer=(
            "Check your lease and local rental rules, which usually set a deadline for returning a deposit with an itemized list of deductions.",
            "Send a written request for the deposit, keeping a copy, and include photos from your move-out if you have them.",
            "If that fails, small claims court is often an affordable option, and a local tenant association can advise you.",
        ),
        slots={"weeks": ("three", "four", "six", "eight")},
    ),
    Task(
        key="law.small_claims",
        domain="law",
        prompts=(
            "How does small claims court work for {dispute}?",
            "Can I take {dispute} to small claims court?",
        ),
        answer=(
            "Small claims courts handle disputes up to a set amount, and you usually do not need a lawyer.",
            "You file a short claim form, pay a modest fee, and bring documents such as receipts, messages and photos to the hearing.",
            "Check your local court's website for the limit and the filing steps, since they differ between places.",
        ),
        slots={"dispute": ("an unpaid invoice", "a contractor who did not finish the job", "a damaged rental item",
                           "a refund a shop refused")},
    ),
    Task(
        key="law.contract",
        domain="law",
        prompts=(
            "What should I look for before signing {contract}?",
            "I'm about to sign {contract}. What clauses should I read carefully?",
        ),
        answer=(
            "Read the whole document, paying close attention to the term, the renewal rules and how you can cancel.",
            "Check every fee and penalty, and ask for anything that was promised verbally to be written in.",
            "If the contract involves a lot of money or a long commitment, have a lawyer review it first.",
        ),
        slots={"contract": ("a lease", "an employment contract", "a gym contract", "a freelance agreement", "a car loan")},
    ),
    Task(
        key="law.will",
        domain="law",
        prompts=(
            "Do I need a will if {situation}?",
            "How do I start writing a will when {situation}?",
        ),
        answer=(
            "A will lets you decide who receives your property and who cares for any dependents, instead of leaving it to default rules.",
            "List your assets and debts, decide on your beneficiaries, and choose an executor you trust.",
            "The signing and witness requirements vary by place, so an estate lawyer or an official template helps avoid mistakes.",
        ),
        slots={"situation": ("I don't own much", "I just had a child", "I just bought a home", "I'm still young")},
    ),
    Task(
        key="law.noise",
        domain="law",
        prompts=(
            "My neighbors play loud music {when}. What can I do?",
            "How should I handle a noise problem with neighbors {when}?",
        ),
        answer=(
            "Start with a calm, friendly conversation or a polite note, since people are often unaware of the noise.",
            "Keep a log of dates and times if the problem continues, and check your building rules or local noise limits.",
            "If talking does not help, contact the building management or a community mediation service.",
        ),
        slots={"when": ("late at night", "every weekend", "early in the morning", "on weeknights")},
    ),
    Task(
        key="law.ticket",
        domain="law",
        prompts=(
            "I got a {ticket} that I think is unfair. How do I contest it?",
            "Is it worth fighting a {ticket}?",
        ),
        answer=(
            "Read the notice for the deadline and the instructions for contesting, and do not miss that date.",
            "Gather evidence such as photos of the signs, the location and any receipts that support your account.",
            "Many places let you contest in writing; if the stakes are high, a local lawyer can tell you your chances.",
        ),
        slots={"ticket": ("parking ticket", "speeding ticket", "red-light camera ticket", "toll violation notice")},
    ),
    Task(
        key="law.photos",
        domain="law",
        prompts=(
            "Someone used my {work} without permission. What can I do?",
            "Can I stop a website from using my {work} without asking?",
        ),
        answer=(
            "In many places you own the copyright in work you created, even without registering it.",
            "Gather proof that the work is yours, such as original files, then contact the site owner and ask for removal or credit.",
            "If they refuse, most hosting platforms have a formal takedown process you can use.",
        ),
        slots={"work": ("photos", "drawings", "blog posts", "recipes with my photos", "music recordings")},
    ),
)
