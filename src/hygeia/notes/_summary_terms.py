"""Terms the summaries use: ICD-10-CM codes for SNOMED CT conditions, lay names, plain medicine forms.

``ICD10CM`` maps the SNOMED CT condition codes of Hygeia's default module library (and
the common findings of Synthea's modules that it shares) to ICD-10-CM. No free SNOMED CT
to ICD-10-CM map can ship here (NLM's map needs a UMLS licence), so each row was chosen
by looking the SNOMED term up as a coder does, in the ICD-10-CM Alphabetic Index, and
every code and its description come from the CMS/NCHS ICD-10-CM tabular list (a US
government work, public domain; April 2026 release as the ``simple-icd-10-cm`` package,
MIT, ships it). ``tests/unit/notes/test_summarize_terms.py`` checks every code against that
list: valid, billable (a leaf) and with the description stored here. A condition not in
the table gets no code: the letter says so, it never guesses one. Where the SNOMED term
is less specific than ICD-10-CM allows, the row takes the "unspecified" code (laterality,
episode of care "initial encounter" for injuries).

Example:
    >>> ICD10CM["59621000"]
    ('I10', 'Essential (primary) hypertension')
    >>> LAY["59621000"]
    'high blood pressure'
"""

from __future__ import annotations

__all__ = ["ICD10CM", "LAY", "LAY_FORMS", "LAY_PROCEDURES"]

#: SNOMED CT condition code -> (ICD-10-CM code, its CMS description).
ICD10CM: dict[str, tuple[str, str]] = {
    "21522001": ("R10.9", "Unspecified abdominal pain"),
    "401303003": ("I21.3", "ST elevation (STEMI) myocardial infarction of unspecified site"),
    "10509002": ("J20.9", "Acute bronchitis, unspecified"),
    "401314000": ("I21.4", "Non-ST elevation (NSTEMI) myocardial infarction"),
    "3110003": ("H66.90", "Otitis media, unspecified, unspecified ear"),
    "36689008": ("N10", "Acute pyelonephritis"),
    "195662009": ("J02.8", "Acute pharyngitis due to other specified organisms"),
    "271737000": ("D64.9", "Anemia, unspecified"),
    "194828000": ("I20.9", "Angina pectoris, unspecified"),
    "195967001": ("J45.909", "Unspecified asthma, uncomplicated"),
    "233678006": ("J45.909", "Unspecified asthma, uncomplicated"),
    "49436004": ("I48.91", "Unspecified atrial fibrillation"),
    "162864005": ("E66.9", "Obesity, unspecified"),
    "408512008": ("E66.01", "Morbid (severe) obesity due to excess calories"),
    "128045006": ("L03.90", "Cellulitis, unspecified"),
    "29857009": ("R07.9", "Chest pain, unspecified"),
    "88805009": ("I50.9", "Heart failure, unspecified"),
    "431856006": ("N18.2", "Chronic kidney disease, stage 2 (mild)"),
    "433144002": ("N18.30", "Chronic kidney disease, stage 3 unspecified"),
    "431857002": ("N18.4", "Chronic kidney disease, stage 4 (severe)"),
    "46177005": ("N18.6", "End stage renal disease"),
    "13645005": ("J44.9", "Chronic obstructive pulmonary disease, unspecified"),
    "359817006": ("S72.009A", ("Fracture of unspecified part of neck of unspecified femur, initial encounter for "
                              "closed fracture")),
    "385093006": ("J18.9", "Pneumonia, unspecified organism"),
    "62106007": ("S06.0X0A", "Concussion without loss of consciousness, initial encounter"),
    "53741008": ("I25.10", "Atherosclerotic heart disease of native coronary artery without angina pectoris"),
    "49727002": ("R05.9", "Cough, unspecified"),
    "38822007": ("N30.90", "Cystitis, unspecified without hematuria"),
    "44054006": ("E11.9", "Type 2 diabetes mellitus without complications"),
    "127013003": ("E11.29", "Type 2 diabetes mellitus with other diabetic kidney complication"),
    "368581000119106": ("E11.40", "Type 2 diabetes mellitus with diabetic neuropathy, unspecified"),
    "1551000119108": ("E11.3299", ("Type 2 diabetes mellitus with mild nonproliferative diabetic retinopathy without "
                                  "macular edema, unspecified eye")),
    "404640003": ("R42", "Dizziness and giddiness"),
    "267036007": ("R06.00", "Dyspnea, unspecified"),
    "403190006": ("T30.0", "Burn of unspecified body region, unspecified degree"),
    "271807003": ("R21", "Rash and other nonspecific skin eruption"),
    "59621000": ("I10", "Essential (primary) hypertension"),
    "370247008": ("S01.81XA", "Laceration without foreign body of other part of head, initial encounter"),
    "386661006": ("R50.9", "Fever, unspecified"),
    "16114001": ("S82.899A", "Other fracture of unspecified lower leg, initial encounter for closed fracture"),
    "58150001": ("S42.009A", ("Fracture of unspecified part of unspecified clavicle, initial encounter for closed "
                             "fracture")),
    "65966004": ("S52.90XA", "Unspecified fracture of unspecified forearm, initial encounter for closed fracture"),
    "33737001": ("S22.39XA", "Fracture of one rib, unspecified side, initial encounter for closed fracture"),
    "25374005": ("K52.9", "Noninfective gastroenteritis and colitis, unspecified"),
    "21897009": ("F41.1", "Generalized anxiety disorder"),
    "11687002": ("O24.419", "Gestational diabetes mellitus in pregnancy, unspecified control"),
    "25064002": ("R51.9", "Headache, unspecified"),
    "399211009": ("I25.2", "Old myocardial infarction"),
    "55822004": ("E78.5", "Hyperlipidemia, unspecified"),
    "6142004": ("J11.1", "Influenza due to unidentified influenza virus with other respiratory manifestations"),
    "422504002": ("I63.9", "Cerebral infarction, unspecified"),
    "283371005": ("S51.819A", "Laceration without foreign body of unspecified forearm, initial encounter"),
    "284549007": ("S61.419A", "Laceration without foreign body of unspecified hand, initial encounter"),
    "283385000": ("S71.119A", "Laceration without foreign body, unspecified thigh, initial encounter"),
    "279039007": ("M54.50", "Low back pain, unspecified"),
    "36923009": ("F32.9", "Major depressive disorder, single episode, unspecified"),
    "370143000": ("F32.9", "Major depressive disorder, single episode, unspecified"),
    "19169002": ("O03.9", "Complete or unspecified spontaneous abortion without complication"),
    "422587007": ("R11.0", "Nausea"),
    "72892002": ("Z33.1", "Pregnant state, incidental"),
    "239872002": ("M16.9", "Osteoarthritis of hip, unspecified"),
    "239873007": ("M17.9", "Osteoarthritis of knee, unspecified"),
    "64859006": ("M81.0", "Age-related osteoporosis without current pathological fracture"),
    "58703003": ("F53.0", "Postpartum depression"),
    "398254007": ("O14.90", "Unspecified pre-eclampsia, unspecified trimester"),
    "267102003": ("J02.9", "Acute pharyngitis, unspecified"),
    "44465007": ("S93.409A", "Sprain of unspecified ligament of unspecified ankle, initial encounter"),
    "70704007": ("S63.509A", "Unspecified sprain of unspecified wrist, initial encounter"),
    "271594007": ("R55", "Syncope and collapse"),
    "27355003": ("K08.89", "Other specified disorders of teeth and supporting structures"),
    "54150009": ("J06.9", "Acute upper respiratory infection, unspecified"),
    "249497008": ("R11.10", "Vomiting, unspecified"),
    # the acute-care complaints of the default library (emergency, urgent care, sick visits)
    "125601008": ("S89.90XA", "Unspecified injury of unspecified lower leg, initial encounter"),
    "125667009": ("T14.8XXA", "Other injury of unspecified body region, initial encounter"),
    "126485001": ("L50.9", "Urticaria, unspecified"),
    "14760008": ("K59.00", "Constipation, unspecified"),
    "241929008": ("T78.40XA", "Allergy, unspecified, initial encounter"),
    "25702006": ("F10.920", "Alcohol use, unspecified with intoxication, uncomplicated"),
    "284551006": ("S91.319A", "Laceration without foreign body, unspecified foot, initial encounter"),
    "37796009": ("G43.909", "Migraine, unspecified, not intractable, without status migrainosus"),
    "39848009": ("S13.4XXA", "Sprain of ligaments of cervical spine, initial encounter"),
    "40275004": ("L25.9", "Unspecified contact dermatitis, unspecified cause"),
    "444814009": ("J01.90", "Acute sinusitis, unspecified"),
    "56018004": ("R06.2", "Wheezing"),
    "57676002": ("M25.50", "Pain in unspecified joint"),
    "62315008": ("R19.7", "Diarrhea, unspecified"),
    "68962001": ("M79.10", "Myalgia, unspecified site"),
    "80583007": ("F41.0", "Panic disorder [episodic paroxysmal anxiety]"),
    "9826008": ("H10.9", "Unspecified conjunctivitis"),
}

#: SNOMED CT condition code -> the words a patient would use (grade-school English).
LAY: dict[str, str] = {
    "21522001": "belly pain", "401303003": "heart attack", "10509002": "chest cold", "401314000": "heart attack",
    "3110003": "ear infection", "36689008": "kidney infection", "195662009": "sore throat from a virus",
    "271737000": "low red blood cells", "194828000": "chest pain from the heart", "195967001": "asthma",
    "233678006": "asthma", "49436004": "uneven heartbeat", "162864005": "obesity", "408512008": "severe obesity",
    "128045006": "skin infection", "29857009": "chest pain", "88805009": "heart failure",
    "431856006": "kidney disease", "433144002": "kidney disease", "431857002": "kidney disease",
    "46177005": "kidney failure", "13645005": "lung disease (COPD)", "359817006": "broken hip",
    "385093006": "lung infection (pneumonia)", "62106007": "mild head injury", "53741008": "heart disease",
    "49727002": "cough", "38822007": "bladder infection", "44054006": "diabetes", "127013003": "kidney damage from diabetes",
    "368581000119106": "nerve damage from diabetes", "1551000119108": "eye damage from diabetes",
    "404640003": "dizziness", "267036007": "short of breath", "403190006": "mild burn", "271807003": "skin rash",
    "59621000": "high blood pressure", "370247008": "cut on the face", "386661006": "fever",
    "16114001": "broken ankle", "58150001": "broken collarbone", "65966004": "broken arm", "33737001": "broken rib",
    "15724005": "broken bone in the back", "25374005": "stomach flu", "21897009": "anxiety",
    "11687002": "diabetes in pregnancy", "25064002": "headache", "399211009": "past heart attack",
    "55822004": "high cholesterol", "6142004": "flu", "422504002": "stroke", "283371005": "cut on the arm",
    "284549007": "cut on the hand", "283385000": "cut on the leg", "279039007": "low back pain",
    "36923009": "depression", "370143000": "depression", "19169002": "miscarriage", "422587007": "upset stomach",
    "72892002": "pregnancy", "239872002": "hip arthritis", "239873007": "knee arthritis", "64859006": "weak bones",
    "58703003": "depression after birth", "398254007": "pre-eclampsia (a serious problem in pregnancy)",
    "267102003": "sore throat", "44465007": "sprained ankle", "70704007": "sprained wrist", "271594007": "fainting",
    "27355003": "toothache", "54150009": "cold", "249497008": "throwing up",
    # Synthea's modules: common conditions that Hygeia's library does not make (displays checked in its modules)
    "40055000": "long-term sinus infection", "444814009": "sinus infection", "43878008": "strep throat",
    "74400008": "appendicitis", "68496003": "growth in the colon (polyp)", "230690007": "stroke",
    "26929004": "Alzheimer disease", "82423001": "long-term pain", "446096008": "hay fever",
    "263102004": "broken wrist", "840539006": "COVID-19", "254837009": "breast cancer", "363406005": "colon cancer",
    "69896004": "arthritis", "201834006": "hand arthritis", "80394007": "high blood sugar",
    # the acute-care complaints of the default library
    "125601008": "knee injury", "125667009": "bruise", "126485001": "hives", "14760008": "constipation",
    "241929008": "allergic reaction", "25702006": "drinking too much alcohol", "284551006": "cut on the foot",
    "37796009": "migraine headache", "39848009": "neck strain (whiplash)", "40275004": "skin rash from contact",
    "427898007": "tooth infection", "56018004": "wheezing", "57676002": "joint pain", "62315008": "diarrhea",
    "68962001": "muscle pain", "80583007": "panic attack", "9826008": "pink eye",
}

#: SNOMED CT procedure code -> plain words.
LAY_PROCEDURES: dict[str, str] = {
    "177184002": "gave birth", "11466000": "had a C-section", "399208008": "had a chest X-ray",
    "371908008": "got oxygen through a mask", "268400002": "had a heart tracing (12 lead electrocardiogram)",
    "29303009": "had a heart tracing (ECG)", "82078001": "had blood drawn for tests",
    "33367005": "had an X-ray of the heart's blood vessels", "281790008": "got antibiotics through a vein",
    "30088009": "had a blood test for germs", "104173009": "had a test of your phlegm",
    "609588000": "had a knee replacement", "415070008": "had a procedure to open a heart artery",
    "31208007": "had medicine to start labor", "433236007": "had a scan of the heart (transthoracic echocardiography)",
    "56251003": "got breathing treatments", "52734007": "had a hip replacement", "713021002": "had an X-ray of the hips",
    "305351004": "stayed in intensive care", "288086009": "had stitches",
}

#: RxNorm dose-form words -> plain words (longest first).
LAY_FORMS: tuple[tuple[str, str], ...] = (
    ("Metered Dose Inhaler", "inhaler"), ("Dry Powder Inhaler", "inhaler"), ("Inhalation Powder", "inhaler"),
    ("Inhalation Solution", "breathing liquid"), ("Chewable Tablet", "chewable pill"),
    ("Sublingual Tablet", "pill under the tongue"), ("Extended Release Oral Tablet", "long-acting pill"),
    ("Oral Tablet", "pill"), ("Oral Capsule", "capsule"), ("Oral Solution", "liquid"),
    ("Oral Suspension", "liquid"), ("Auto-Injector", "shot"), ("Pen Injector", "shot"), ("Prefilled Syringe", "shot"),
    ("Injectable Suspension", "shot"), ("Injection", "shot"), ("Topical Cream", "cream"), ("Topical Ointment", "ointment"),
    ("Transdermal System", "patch"), ("Nasal Spray", "nose spray"), ("Mucosal Spray", "mouth spray"),
)
